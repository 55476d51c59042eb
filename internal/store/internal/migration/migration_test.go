package migration

import (
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   []string
		want    []string
		wantErr bool
	}{
		{"ordered", []string{"m/0002_b.sql", "m/0001_a.sql", "m/README"}, []string{"0001_a.sql", "0002_b.sql"}, false},
		{"gap", []string{"m/0001_a.sql", "m/0003_c.sql"}, nil, true},
		{"repeat", []string{"m/0001_a.sql", "m/0001_b.sql"}, nil, true},
		{"bad name", []string{"m/init.sql"}, nil, true},
		{"empty", nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tc.files {
				fsys[f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			steps, err := Load(fsys, "m")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			var got []string
			for i, s := range steps {
				got = append(got, s.Name)
				if s.Version != i+1 || s.SQL != "SELECT 1;" {
					t.Fatalf("step %d = %+v", i, s)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("steps = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("steps = %v, want %v", got, tc.want)
				}
			}
		})
	}
}
