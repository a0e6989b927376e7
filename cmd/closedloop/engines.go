package main

// Store engines other than the default DuckDB register themselves by DSN
// scheme: --db clickhouse://host:9000/database selects ClickHouse.
import _ "github.com/closedloop/closedloop/store/clickhouse"
