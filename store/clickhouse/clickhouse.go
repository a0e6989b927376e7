// Package clickhouse is the store for operations that outgrow one machine:
// the same raw tables as the DuckDB store on a ClickHouse server or cluster,
// selected with a DSN like clickhouse://host:9000/closedloop.
//
// Representation (see migrations/0001_raw_tables.sql): timestamps are Int64
// milliseconds since the Unix epoch (ClickHouse 18.16 has no DateTime64),
// booleans UInt8, optional values Nullable. Raw tables are ReplacingMergeTree
// ordered by event_id; Load skips events already stored, like DuckDB.
//
// With ?cluster=NAME (a cluster of the server's remote_servers), every node
// of the cluster gets <table>_local tables and a Distributed table <table>
// over them; inserts go through the Distributed tables, sharded so that a
// case's events stay on one shard. The DDL is run on each node directly, so
// no ZooKeeper (ON CLUSTER) is needed.
package clickhouse

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

func init() {
	store.Register("clickhouse", func(ctx context.Context, dsn string, opt store.Options) (store.Store, error) {
		return Open(ctx, dsn, opt)
	})
}

// Batch sizes: rows per insert block and event ids per existence check.
var (
	InsertBatchRows = 20_000
	CheckBatchIDs   = 100_000
)

// Settings every connection carries. join_use_nulls gives LEFT JOIN the SQL
// meaning (NULL, not a default value, for a missing right row);
// insert_distributed_sync makes a load visible once Load returns.
var sessionSettings = ch.Settings{
	"join_use_nulls":          1,
	"insert_distributed_sync": 1,
	"max_query_size":          16 << 20,
}

// Store is a ClickHouse-backed store.
type Store struct {
	conn     driver.Conn // native connection for batch inserts
	db       *sql.DB     // database/sql for queries
	database string
	cluster  string
	opts     *ch.Options
}

// Config is what a clickhouse:// DSN says.
type Config struct {
	Options  *ch.Options
	Database string
	Cluster  string // "" for a single server
}

// ParseDSN reads clickhouse://[user[:password]@]host:port/database[?cluster=NAME&…].
// cluster is closedloop's setting; other parameters are clickhouse-go's
// (dial_timeout, compress, secure, …) or ClickHouse settings.
func ParseDSN(dsn string) (Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return Config{}, fmt.Errorf("parsing ClickHouse DSN: %w", err)
	}
	if u.Scheme != "clickhouse" {
		return Config{}, fmt.Errorf("ClickHouse DSN %q: scheme must be clickhouse://", redact(u))
	}
	q := u.Query()
	cfg := Config{Cluster: q.Get("cluster")}
	q.Del("cluster")
	u.RawQuery = q.Encode()
	cfg.Database = strings.Trim(u.Path, "/")
	if cfg.Database == "" {
		cfg.Database = "closedloop"
	}
	if !identRe.MatchString(cfg.Database) {
		return Config{}, fmt.Errorf("ClickHouse DSN %q: database %q must be letters, digits and _", redact(u), cfg.Database)
	}
	if cfg.Cluster != "" && !identRe.MatchString(cfg.Cluster) {
		return Config{}, fmt.Errorf("ClickHouse DSN %q: cluster %q must be letters, digits and _", redact(u), cfg.Cluster)
	}
	u.Path = "/" + cfg.Database
	o, err := ch.ParseDSN(u.String())
	if err != nil {
		return Config{}, fmt.Errorf("parsing ClickHouse DSN %q: %w", redact(u), err)
	}
	if o.Protocol != ch.Native {
		return Config{}, fmt.Errorf("ClickHouse DSN %q: closedloop uses the native protocol (port 9000)", redact(u))
	}
	cfg.Options = o
	return cfg, nil
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	return c.String()
}

// Open connects to the server of dsn, creates the database if missing and
// applies pending migrations (on every node in cluster mode).
func Open(ctx context.Context, dsn string, opt store.Options) (*Store, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if !opt.ReadOnly {
		if err := prepareNodes(ctx, cfg); err != nil {
			return nil, err
		}
	}
	o := withSettings(cfg.Options, cfg.Database)
	conn, err := ch.Open(o)
	if err != nil {
		return nil, fmt.Errorf("connecting to ClickHouse %v: %w", o.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("connecting to ClickHouse %v: %w", o.Addr, err)
	}
	db := ch.OpenDB(o)
	return &Store{conn: conn, db: db, database: cfg.Database, cluster: cfg.Cluster, opts: o}, nil
}

// withSettings copies o for database db with the session settings added.
func withSettings(o *ch.Options, db string) *ch.Options {
	c := *o
	c.Auth.Database = db
	c.Settings = ch.Settings{}
	for k, v := range o.Settings {
		c.Settings[k] = v
	}
	for k, v := range sessionSettings {
		if _, ok := c.Settings[k]; !ok {
			c.Settings[k] = v
		}
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 10 * time.Second
	}
	return &c
}

// prepareNodes creates the database and applies migrations on the server of
// the DSN, and in cluster mode on every node of the cluster.
func prepareNodes(ctx context.Context, cfg Config) error {
	admin := withSettings(cfg.Options, "default")
	conn, err := ch.Open(admin)
	if err != nil {
		return fmt.Errorf("connecting to ClickHouse %v: %w", admin.Addr, err)
	}
	defer conn.Close()
	if err := conn.Ping(ctx); err != nil {
		return fmt.Errorf("connecting to ClickHouse %v: %w", admin.Addr, err)
	}
	if cfg.Cluster == "" {
		return prepareNode(ctx, conn, cfg)
	}
	nodes, err := clusterNodes(ctx, conn, cfg.Cluster)
	if err != nil {
		return err
	}
	for _, addr := range nodes {
		o := *admin
		o.Addr = []string{addr}
		nc, err := ch.Open(&o)
		if err != nil {
			return fmt.Errorf("connecting to cluster %s node %s: %w", cfg.Cluster, addr, err)
		}
		err = prepareNode(ctx, nc, cfg)
		nc.Close()
		if err != nil {
			return fmt.Errorf("cluster %s node %s: %w", cfg.Cluster, addr, err)
		}
	}
	return nil
}

// clusterNodes lists host:port of every replica of every shard.
func clusterNodes(ctx context.Context, conn driver.Conn, cluster string) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT host_address, toUInt32(port) FROM system.clusters WHERE cluster = ? ORDER BY shard_num, replica_num`, cluster)
	if err != nil {
		return nil, fmt.Errorf("reading cluster %s from system.clusters: %w", cluster, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var host string
		var port uint32
		if err := rows.Scan(&host, &port); err != nil {
			return nil, fmt.Errorf("reading cluster %s from system.clusters: %w", cluster, err)
		}
		out = append(out, net.JoinHostPort(host, strconv.Itoa(int(port))))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cluster %q is not configured on the server (see remote_servers in its config.xml)", cluster)
	}
	return out, nil
}

func prepareNode(ctx context.Context, conn driver.Conn, cfg Config) error {
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+cfg.Database); err != nil {
		return fmt.Errorf("creating database %s: %w", cfg.Database, err)
	}
	return migrate(ctx, conn, cfg)
}

// migration is one numbered schema step.
type migration struct {
	version int
	name    string
	stmts   []string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and '_'", name)
		}
		b, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", name, err)
		}
		out = append(out, migration{version: v, name: name, stmts: SplitStatements(string(b))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrate applies the pending migrations of one node. ClickHouse has no
// transactional DDL, so every statement is idempotent (IF NOT EXISTS) and
// the version row is written after the migration's last statement.
func migrate(ctx context.Context, conn driver.Conn, cfg Config) error {
	db := cfg.Database
	if err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+db+`.schema_migrations (
		version UInt32, name String, applied_at DateTime DEFAULT now()) ENGINE = TinyLog`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	var current uint32
	if err := conn.QueryRow(ctx, `SELECT toUInt32(max(version)) FROM `+db+`.schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.version <= int(current) {
			continue
		}
		for _, s := range m.stmts {
			for _, q := range nodeDDL(s, db, cfg.Cluster) {
				if err := conn.Exec(ctx, q); err != nil {
					return fmt.Errorf("applying migration %s: %w", m.name, err)
				}
			}
		}
		if err := conn.Exec(ctx, `INSERT INTO `+db+`.schema_migrations (version, name) SELECT ?, ?`, m.version, m.name); err != nil {
			return fmt.Errorf("recording migration %s: %w", m.name, err)
		}
	}
	return nil
}

var (
	createRe   = regexp.MustCompile(`(?i)CREATE TABLE IF NOT EXISTS ([A-Za-z_][A-Za-z0-9_]*)`)
	shardKeyRe = regexp.MustCompile(`(?m)^\s*--\s*shard_key:\s*(.+?)\s*$`)
)

// nodeDDL turns one migration statement into what one node runs: the
// statement itself in database db, or in cluster mode <table>_local plus the
// Distributed table <table> over the cluster's <table>_local tables.
func nodeDDL(stmt, db, cluster string) []string {
	m := createRe.FindStringSubmatchIndex(stmt)
	if m == nil {
		return []string{stmt}
	}
	table := stmt[m[2]:m[3]]
	head := stmt[:m[2]]
	tail := stmt[m[3]:]
	if cluster == "" {
		return []string{head + db + "." + table + tail}
	}
	key := "rand()"
	if k := shardKeyRe.FindStringSubmatch(stmt); k != nil {
		key = k[1]
	}
	local := table + "_local"
	return []string{
		head + db + "." + local + tail,
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s AS %s.%s ENGINE = Distributed(%s, %s, %s, %s)",
			db, table, db, local, cluster, db, local, key),
	}
}

// SplitStatements splits SQL text on the semicolons that end statements
// (outside quotes and comments) and drops empty statements; comments stay
// with the statement they precede.
func SplitStatements(text string) []string {
	var out []string
	start := 0
	inSingle, inLineComment := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inLineComment:
			if c == '\n' {
				inLineComment = false
			}
		case inSingle:
			if c == '\\' {
				i++
			} else if c == '\'' {
				inSingle = false
			}
		case c == '\'':
			inSingle = true
		case c == '-' && i+1 < len(text) && text[i+1] == '-':
			inLineComment = true
		case c == ';':
			out = appendStmt(out, text[start:i])
			start = i + 1
		}
	}
	return appendStmt(out, text[start:])
}

func appendStmt(out []string, s string) []string {
	// A chunk of comments only is not a statement.
	for _, line := range strings.Split(s, "\n") {
		l := strings.TrimSpace(line)
		if l != "" && !strings.HasPrefix(l, "--") {
			return append(out, strings.TrimSpace(s))
		}
	}
	return out
}

// Dialect implements store.Store.
func (s *Store) Dialect() string { return "clickhouse" }

// DB implements store.Store.
func (s *Store) DB() *sql.DB { return s.db }

// Conn is the native connection (batch inserts, external data).
func (s *Store) Conn() driver.Conn { return s.conn }

// Database is the ClickHouse database the store lives in.
func (s *Store) Database() string { return s.database }

// Cluster is the cluster name of the DSN, "" for a single server.
func (s *Store) Cluster() string { return s.cluster }

// Close implements store.Store.
func (s *Store) Close() error {
	return errors.Join(s.db.Close(), s.conn.Close())
}

// SchemaVersion returns the highest applied migration on the DSN's server.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v uint32
	err := s.conn.QueryRow(ctx, `SELECT toUInt32(max(version)) FROM schema_migrations`).Scan(&v)
	return int(v), err
}

// Load implements store.Store: per table, the batch is reduced to the first
// occurrence of each event_id, the event ids already stored are looked up,
// and only the new rows are inserted in blocks of InsertBatchRows.
func (s *Store) Load(ctx context.Context, recs []models.Record) (map[models.Table]int, error) {
	byTable := map[models.Table][]models.Record{}
	seen := map[models.Table]map[string]bool{}
	for _, r := range recs {
		t := r.Table()
		if seen[t] == nil {
			seen[t] = map[string]bool{}
		}
		id := r.Base().EventID
		if seen[t][id] {
			continue
		}
		seen[t][id] = true
		byTable[t] = append(byTable[t], r)
	}
	tables := make([]models.Table, 0, len(byTable))
	for t := range byTable {
		tables = append(tables, t)
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i] < tables[j] })
	added := map[models.Table]int{}
	for _, t := range tables {
		rs := byTable[t]
		ids := make([]string, len(rs))
		for i, r := range rs {
			ids[i] = r.Base().EventID
		}
		stored, err := s.existing(ctx, string(t), ids)
		if err != nil {
			return nil, err
		}
		fresh := rs[:0:0]
		for _, r := range rs {
			if !stored[r.Base().EventID] {
				fresh = append(fresh, r)
			}
		}
		rows := make([][]any, len(fresh))
		for i, r := range fresh {
			rows[i] = r.Values()
		}
		if err := s.insert(ctx, string(t), models.Columns[t], rows); err != nil {
			return nil, err
		}
		added[t] = len(fresh)
	}
	return added, nil
}

// existing returns which of ids are stored in table. The ids travel as an
// external table with the query, so a whole batch is checked in one pass
// over the stored event ids (a query text of ids would need one pass per
// few thousand ids: the server's max_query_size).
func (s *Store) existing(ctx context.Context, table string, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	for start := 0; start < len(ids); start += CheckBatchIDs {
		end := min(start+CheckBatchIDs, len(ids))
		batch, err := ext.NewTable("_batch_ids", ext.Column("event_id", "String"))
		if err != nil {
			return nil, fmt.Errorf("looking up stored %s event ids: %w", table, err)
		}
		for _, id := range ids[start:end] {
			if err := batch.Append(id); err != nil {
				return nil, fmt.Errorf("looking up stored %s event ids: %w", table, err)
			}
		}
		rows, err := s.conn.Query(ch.Context(ctx, ch.WithExternalTable(batch)),
			"SELECT DISTINCT event_id FROM "+table+" WHERE event_id IN _batch_ids")
		if err != nil {
			return nil, fmt.Errorf("looking up stored %s event ids: %w", table, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("looking up stored %s event ids: %w", table, err)
			}
			out[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("looking up stored %s event ids: %w", table, err)
		}
	}
	return out, nil
}

// insert writes rows with an explicit column list in blocks of
// InsertBatchRows. Values are converted to the ClickHouse representation:
// time.Time to Int64 milliseconds, bool to UInt8.
func (s *Store) insert(ctx context.Context, table string, cols []string, rows [][]any) error {
	for start := 0; start < len(rows); start += InsertBatchRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+InsertBatchRows, len(rows))
		b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+")")
		if err != nil {
			return fmt.Errorf("preparing insert into %s: %w", table, err)
		}
		vals := make([]any, len(cols))
		for _, r := range rows[start:end] {
			if len(r) != len(cols) {
				b.Abort()
				return fmt.Errorf("inserting into %s: row has %d values for %d columns", table, len(r), len(cols))
			}
			for j, v := range r {
				vals[j] = Value(v)
			}
			if err := b.Append(vals...); err != nil {
				b.Abort()
				return fmt.Errorf("inserting into %s: %w", table, err)
			}
		}
		if err := b.Send(); err != nil {
			return fmt.Errorf("inserting into %s: %w", table, err)
		}
	}
	return nil
}

// Value converts a Go value to what the ClickHouse column expects.
func Value(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UnixMilli()
	case *time.Time:
		if x == nil {
			return nil
		}
		return x.UnixMilli()
	case bool:
		if x {
			return uint8(1)
		}
		return uint8(0)
	case *bool:
		if x == nil {
			return nil
		}
		return Value(*x)
	}
	return v
}

// WriteRows appends rows to an existing table in its column order; the
// transforms use it for facts computed in Go (business time).
func (s *Store) WriteRows(ctx context.Context, table string, rows [][]any) error {
	cols, err := s.columns(ctx, table)
	if err != nil {
		return err
	}
	return s.insert(ctx, table, cols, rows)
}

func (s *Store) columns(ctx context.Context, table string) ([]string, error) {
	if !identRe.MatchString(table) {
		return nil, fmt.Errorf("table name %q", table)
	}
	rows, err := s.conn.Query(ctx, "DESCRIBE TABLE "+table)
	if err != nil {
		return nil, fmt.Errorf("reading columns of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		// DESCRIBE's column count differs between versions: read the name only.
		vals := make([]any, len(rows.Columns()))
		var name string
		vals[0] = &name
		for i := 1; i < len(vals); i++ {
			var skip string
			vals[i] = &skip
		}
		if err := rows.Scan(vals...); err != nil {
			return nil, fmt.Errorf("reading columns of %s: %w", table, err)
		}
		cols = append(cols, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading columns of %s: %w", table, err)
	}
	return cols, nil
}

// Counts returns the number of rows per raw table.
func (s *Store) Counts(ctx context.Context) (map[models.Table]int, error) {
	out := map[models.Table]int{}
	for _, t := range append(append([]models.Table(nil), models.EventTables...), models.TableRejects) {
		var n uint64
		if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+string(t)).Scan(&n); err != nil {
			return nil, fmt.Errorf("counting %s: %w", t, err)
		}
		out[t] = int(n)
	}
	return out, nil
}
