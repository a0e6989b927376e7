package main
import (
 _ "github.com/duckdb/duckdb-go/v2"
 _ "github.com/spf13/cobra"
 _ "github.com/goccy/go-json"
 _ "go.yaml.in/yaml/v3"
 _ "github.com/robfig/cron/v3"
 _ "github.com/schollz/progressbar/v3"
 _ "golang.org/x/term"
)
func main(){}
