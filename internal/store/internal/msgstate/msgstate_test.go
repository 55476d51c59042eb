package msgstate

import (
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for name, m := range map[string]store.Message{
		"plain": {ID: store.NewID(), Room: "r", Seq: 3, Sender: "u", Text: "hi", CreatedAt: store.Now()},
		"full": {
			ID: store.NewID(), Room: "r", Seq: 9, Sender: "u", SenderName: "U", Guest: true, ClientID: "c",
			Text: "", CreatedAt: store.Timestamp(time.Unix(1, 2e6)), EditedAt: store.Now(), Deleted: true,
			Reactions: []store.Reaction{{Emoji: "👍", Users: []string{"a", "b"}}, {Emoji: "❤", Users: []string{"c"}}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
			}
		})
	}
}

func TestGroup(t *testing.T) {
	got := Group([]ReactionRow{
		{"m1", "👍", "a"}, {"m2", "x", "z"}, {"m1", "❤", "b"}, {"m1", "👍", "c"},
	})
	want := map[string][]store.Reaction{
		"m1": {{Emoji: "👍", Users: []string{"a", "c"}}, {Emoji: "❤", Users: []string{"b"}}},
		"m2": {{Emoji: "x", Users: []string{"z"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Group = %v, want %v", got, want)
	}
}
