package skeleton

import (
	"reflect"
	"testing"

	"github.com/parley-chat/parley/internal/store"
)

func TestPlan(t *testing.T) {
	rows := []Row{
		{ID: "u1", Username: "paypal"},
		{ID: "u2", Username: "bob", Skeleton: store.UsernameSkeleton("bob")},
		{ID: "u3", Username: "p\u0430ypal"}, // Cyrillic а: collides with u1
		{ID: "u4", Username: "b\u03bfb"},    // Greek ο: collides with u2, stored
		{ID: "u5", Username: "carol"},
	}
	assign, collisions := Plan(rows)
	wantAssign := map[string]string{"u1": store.UsernameSkeleton("paypal"), "u5": store.UsernameSkeleton("carol")}
	if !reflect.DeepEqual(assign, wantAssign) {
		t.Fatalf("assign = %v, want %v", assign, wantAssign)
	}
	if len(collisions) != 2 || collisions[0].ID != "u3" || collisions[0].Holder != "paypal" ||
		collisions[1].ID != "u4" || collisions[1].Holder != "bob" {
		t.Fatalf("collisions = %+v", collisions)
	}
	// Stored as planned, a second run changes nothing and finds the same
	// collisions.
	for i := range rows {
		if sk, ok := assign[rows[i].ID]; ok {
			rows[i].Skeleton = sk
		}
	}
	again, collisions2 := Plan(rows)
	if len(again) != 0 || !reflect.DeepEqual(collisions, collisions2) {
		t.Fatalf("second run: assign %v, collisions %+v", again, collisions2)
	}
}
