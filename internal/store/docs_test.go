package store

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var sqlBlock = regexp.MustCompile("(?s)```sql\n(.*?)```")

// The example queries of docs/store-schema.md run as written on both backends and
// answer something on a store with two runs.
func TestDocQueries(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "store-schema.md"))
	if err != nil {
		t.Fatal(err)
	}
	queries := sqlBlock.FindAllStringSubmatch(string(doc), -1)
	if len(queries) < 3 {
		t.Fatalf("%d example queries in docs/store-schema.md", len(queries))
	}
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		s := open(t, b.target(t))
		r := recorder{h: s}
		w := world{accounts: 2, users: 6}
		r.run(t, w, "20260105_090000", day(0))
		w.newKey = acctID(1) + "/user003"
		r.run(t, w, "20260204_090000", day(30))
		for i, q := range queries {
			rows, err := s.DB().Query(q[1])
			if err != nil {
				t.Errorf("query %d: %v\n%s", i+1, err, q[1])
				continue
			}
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Err(); err != nil {
				t.Errorf("query %d: %v", i+1, err)
			}
			rows.Close()
			if n == 0 {
				t.Errorf("query %d answered nothing:\n%s", i+1, q[1])
			}
		}
	})
}
