package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/internal/api"
	"github.com/parley-chat/parley/internal/audit"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

const roomLong = `Manage the rooms in a server's database: create, list and show them, lock,
archive and delete them.

The commands open the database the server uses, found from the same
settings as parley serve: --config, --data-dir and --database-url, or their
PARLEY_* variables, and work while the server runs. A running server is not
told of their changes (this is another process): it applies a lock, an
archive or a deletion when it next loads the room, that is when someone
joins it while no one is in it on that node. To make a change hold at once,
use the HTTP API (docs/API.md): PATCH and DELETE /api/v1/rooms/NAME.`

// roomNotTold is the paragraph of a room command's help that says when a
// running server sees its change.
const roomNotTold = `A running server is not told (this is another process): it applies the
change when it next loads the room, that is when someone joins it while no
one is in it on that node. For an immediate effect use the HTTP API instead
(docs/API.md): `

// maxTopic is the longest room topic, in characters, as the HTTP API
// allows.
const maxTopic = 256

// roomCommand is "parley room" and its subcommands.
func roomCommand(e *cli) *cobra.Command {
	group := &cobra.Command{
		Use:   "room",
		Short: "Manage rooms: create, list, show, archive, lock, delete",
		Long:  roomLong,
		Args:  subcommandArgs,
		RunE:  showHelpAndFail(e),
	}
	f := addAdminFlags(group)
	group.AddCommand(roomCreate(e, f), roomList(e, f), roomShow(e, f),
		roomFlag(e, f, roomArchiveFlag), roomFlag(e, f, roomLockFlag), roomDelete(e, f))
	return group
}

// roomArg checks a ROOM argument against the room-name rules, with the
// longest name the configuration allows (--config or
// PARLEY_MAX_ROOM_NAME_LENGTH), and returns the room's key. A
// configuration that does not load is left for withStore to report.
func (f *adminFlags) roomArg(e *cli, name string) (string, error) {
	maxLen := 0
	if cfg, _, err := f.store.Load(e.environ); err == nil {
		maxLen = cfg.MaxRoomNameLength
	}
	if maxLen <= 0 {
		maxLen = 1024 // the most Validate allows
	}
	key, perr := protocol.NormaliseRoom(name, maxLen)
	if perr != nil {
		return "", usagef("%s", perr.Message)
	}
	return key, nil
}

// findRoom returns the named room key.
func findRoom(ctx context.Context, st store.Store, key string) (store.Room, error) {
	r, err := st.Room(ctx, key)
	if errors.Is(err, store.ErrNotFound) || err == nil && r.Kind != store.KindRoom {
		return store.Room{}, fmt.Errorf("there is no room %q", key)
	}
	return r, err
}

// newRoomJSON is a room as the room commands print it with --json: the
// API's room object.
func newRoomJSON(r store.Room) api.RoomJSON {
	return api.RoomJSON{Name: r.Name, Private: r.Private, Topic: r.Topic, Owner: r.Owner,
		CreatedAt: protocol.FormatTime(r.CreatedAt), LastSeq: r.LastSeq, Locked: r.Locked, Archived: r.Archived}
}

// cliRoomAudit is cliAudit for an action in a room: the entry names the
// room, so that "parley audit --room" finds it.
func cliRoomAudit(ctx context.Context, st store.Store, action, room, target string, detail map[string]any) {
	audit.New(st, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})), nil).
		Record(ctx, audit.CLI, action, room, target, detail)
}

// userNames maps the id of every account to its username, for tables.
func userNames(ctx context.Context, st store.Store) (map[string]string, error) {
	users, err := st.Users(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(users))
	for _, u := range users {
		names[u.ID] = u.Username
	}
	return names, nil
}

// textUser shows a user id in tables: the account's username when it is
// one, else the id; "-" for none.
func textUser(names map[string]string, id string) string {
	switch {
	case id == "":
		return "-"
	case names[id] != "":
		return names[id]
	}
	return id
}

// checkTopic applies the HTTP API's rules to a topic: surrounding white
// space trimmed, at most maxTopic characters, no control characters.
func checkTopic(s string) (string, error) {
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n > maxTopic {
		return "", usagef("the topic has %d characters, the limit is %d", n, maxTopic)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", usagef("the topic has a control character")
	}
	return s, nil
}

func roomCreate(e *cli, f *adminFlags) *cobra.Command {
	var (
		private bool
		topic   string
		owner   string
	)
	c := &cobra.Command{
		Use:   "create NAME [flags]",
		Short: "Create a room, public unless --private",
		Long: `Create a room, as POST /api/v1/rooms does. NAME follows the room-name
rules: 1 to --max-room-name-length (64) letters, digits, '-', '_' and '.',
starting with a letter or digit; it is normalised (case-folded), and a name
taken by an existing room is refused. --owner makes an account the room's
owner (and a member); without it the room has no owner, as one an API key
makes. The server's room-creation rules (--room-creation, --reserved-rooms,
--max-rooms-per-user) bind users, not this command. A running server sees
the room at once.`,
		Example: `  parley room create team --private --topic "the team" --owner alice
  parley room create announcements --data-dir /var/lib/parley`,
		Args: exactArgs("NAME"),
	}
	c.Flags().BoolVar(&private, "private", false, "members only: others cannot see, join or read it")
	c.Flags().StringVar(&topic, "topic", "", "the room's topic, at most 256 characters")
	c.Flags().StringVar(&owner, "owner", "", "the `USERNAME` of the account that owns the room (default: none)")
	c.RunE = func(c *cobra.Command, args []string) error {
		key, err := f.roomArg(e, args[0])
		if err != nil {
			return err
		}
		if topic, err = checkTopic(topic); err != nil {
			return err
		}
		ownerKey := ""
		if c.Flags().Changed("owner") {
			if ownerKey, err = usernameArg(owner); err != nil {
				return err
			}
		}
		return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
			r := store.Room{Name: key, Kind: store.KindRoom, Private: private, Topic: topic}
			ownerName := ""
			if ownerKey != "" {
				u, err := findUser(ctx, st, ownerKey, owner)
				if err != nil {
					return err
				}
				r.Owner, ownerName = u.ID, u.Username
			}
			r, err := st.CreateRoom(ctx, r)
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("room %q already exists", key)
			}
			if err != nil {
				return err
			}
			detail := map[string]any{"private": r.Private}
			if r.Owner != "" {
				detail["owner"] = r.Owner
			}
			cliRoomAudit(ctx, st, audit.RoomCreate, key, "", detail)
			return f.output(e.stdout, newRoomJSON(r), func(w io.Writer) {
				kind := "public"
				if r.Private {
					kind = "private"
				}
				fmt.Fprintf(w, "created %s room %s", kind, r.Name)
				if ownerName != "" {
					fmt.Fprintf(w, ", owned by %s (%s)", ownerName, r.Owner)
				}
				fmt.Fprintln(w)
			})
		})
	}
	return c
}

func roomList(e *cli, f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every room, private ones included, by name",
		Long: `List every room, private ones included, by name, with its owner, whether
it is private, locked or archived, and the sequence number of its newest
event. Direct conversations are not listed.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
				rooms, err := st.ListRooms(ctx)
				if err != nil {
					return err
				}
				names, err := userNames(ctx, st)
				if err != nil {
					return err
				}
				out := api.RoomsResponse{Rooms: make([]api.RoomJSON, 0, len(rooms))}
				for _, r := range rooms {
					out.Rooms = append(out.Rooms, newRoomJSON(r))
				}
				return f.output(e.stdout, out, func(w io.Writer) {
					fmt.Fprintln(w, "NAME\tOWNER\tPRIVATE\tLOCKED\tARCHIVED\tLAST SEQ")
					for _, r := range rooms {
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\n", r.Name, textUser(names, r.Owner),
							yesNo(r.Private), yesNo(r.Locked), yesNo(r.Archived), r.LastSeq)
					}
				})
			})
		},
	}
}

// roomMemberJSON is a member as room show prints it with --json: the
// API's member object and, for an account, its username.
type roomMemberJSON struct {
	api.MemberJSON
	Username string `json:"username,omitempty"`
}

// roomShowJSON is what room show prints with --json: the room object, its
// members, and its bans and mutes in force.
type roomShowJSON struct {
	api.RoomJSON
	Members []roomMemberJSON   `json:"members"`
	Bans    []api.SanctionJSON `json:"bans"`
	Mutes   []api.SanctionJSON `json:"mutes"`
}

// newSanctionJSON is a ban or mute as the API shows it.
func newSanctionJSON(s store.Sanction) api.SanctionJSON {
	out := api.SanctionJSON{Room: s.Room, User: s.UserID, Reason: s.Reason, By: s.By, CreatedAt: protocol.FormatTime(s.CreatedAt)}
	if !s.ExpiresAt.IsZero() {
		out.ExpiresAt = protocol.FormatTime(s.ExpiresAt)
	}
	return out
}

func roomShow(e *cli, f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show a room, its members, and its bans and mutes in force",
		Args:  exactArgs("NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			key, err := f.roomArg(e, args[0])
			if err != nil {
				return err
			}
			return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
				r, err := findRoom(ctx, st, key)
				if err != nil {
					return err
				}
				members, err := st.Members(ctx, key)
				if err != nil {
					return err
				}
				sanctions, err := st.Sanctions(ctx, key, "")
				if err != nil {
					return err
				}
				names, err := userNames(ctx, st)
				if err != nil {
					return err
				}
				out := roomShowJSON{RoomJSON: newRoomJSON(r), Members: []roomMemberJSON{},
					Bans: []api.SanctionJSON{}, Mutes: []api.SanctionJSON{}}
				for _, m := range members {
					out.Members = append(out.Members, roomMemberJSON{MemberJSON: api.MemberJSON{
						ID: m.UserID, Role: string(m.Role), JoinedAt: protocol.FormatTime(m.JoinedAt)}, Username: names[m.UserID]})
				}
				for _, s := range sanctions {
					if s.Kind == store.SanctionBan {
						out.Bans = append(out.Bans, newSanctionJSON(s))
					} else {
						out.Mutes = append(out.Mutes, newSanctionJSON(s))
					}
				}
				return f.output(e.stdout, out, func(w io.Writer) { showRoomText(w, r, members, sanctions, names) })
			})
		},
	}
}

// showRoomText writes room show's text: the room, then a table of its
// members and one of its bans and mutes. A line without a tab between
// them keeps each table's columns to itself.
func showRoomText(w io.Writer, r store.Room, members []store.Member, sanctions []store.Sanction, names map[string]string) {
	owner := textUser(names, r.Owner)
	if names[r.Owner] != "" {
		owner += " (" + r.Owner + ")"
	}
	fmt.Fprintf(w, "name\t%s\ntopic\t%s\nowner\t%s\nprivate\t%s\nlocked\t%s\narchived\t%s\nlast seq\t%d\ncreated (UTC)\t%s\n",
		r.Name, r.Topic, owner, yesNo(r.Private), yesNo(r.Locked), yesNo(r.Archived), r.LastSeq, textTime(r.CreatedAt))
	fmt.Fprintf(w, "\n%d %s\n", len(members), plural(len(members), "member"))
	if len(members) > 0 {
		fmt.Fprintln(w, "ID\tUSERNAME\tROLE\tJOINED (UTC)")
		for _, m := range members {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", m.UserID, textUser(names, m.UserID), m.Role, textTime(m.JoinedAt))
		}
	}
	bans := 0
	for _, s := range sanctions {
		if s.Kind == store.SanctionBan {
			bans++
		}
	}
	mutes := len(sanctions) - bans
	fmt.Fprintf(w, "\n%d %s and %d %s in force\n", bans, plural(bans, "ban"), mutes, plural(mutes, "mute"))
	if len(sanctions) > 0 {
		fmt.Fprintln(w, "KIND\tUSER\tREASON\tBY\tSINCE (UTC)\tUNTIL (UTC)")
		for _, s := range sanctions {
			reason := s.Reason
			if reason == "" {
				reason = "-"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Kind, textUser(names, s.UserID), reason, textUser(names, s.By),
				textTime(s.CreatedAt), textTime(s.ExpiresAt))
		}
	}
}

// roomStateFlag is a room's lock or archive state, for roomFlag.
type roomStateFlag struct {
	verb, state string // "archive", "archived"
	short, long string
	on, off     string // the audit actions
	get         func(r *store.Room) *bool
}

var (
	roomArchiveFlag = roomStateFlag{
		verb: "archive", state: "archived",
		short: "Archive a room (it takes no messages, but can be read), or --undo it",
		long: `Archive a room: it takes no new messages, and its messages cannot be
edited, deleted or reacted to, but it can still be joined and read. --undo
brings it back.`,
		on: audit.RoomArchive, off: audit.RoomUnarchive,
		get: func(r *store.Room) *bool { return &r.Archived },
	}
	roomLockFlag = roomStateFlag{
		verb: "lock", state: "locked",
		short: "Lock a room (only its owner and admins may post), or --undo it",
		long: `Lock a room: only its owner, its admins, server administrators and the
application (API keys) may post in it. --undo unlocks it.`,
		on: audit.RoomLock, off: audit.RoomUnlock,
		get: func(r *store.Room) *bool { return &r.Locked },
	}
)

// roomFlag is "room archive" or "room lock", as s says.
func roomFlag(e *cli, f *adminFlags, s roomStateFlag) *cobra.Command {
	var undo bool
	c := &cobra.Command{
		Use:   s.verb + " NAME [flags]",
		Short: s.short,
		Long: s.long + "\n\n" + roomNotTold + `PATCH /api/v1/rooms/NAME
with {"` + s.state + `": true} or false.`,
		Args: exactArgs("NAME"),
	}
	c.Flags().BoolVar(&undo, "undo", false, "take the "+s.verb+" away")
	c.RunE = func(c *cobra.Command, args []string) error {
		key, err := f.roomArg(e, args[0])
		if err != nil {
			return err
		}
		return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
			r, err := findRoom(ctx, st, key)
			if err != nil {
				return err
			}
			was := *s.get(&r)
			if was != !undo {
				*s.get(&r) = !undo
				if r, err = st.UpdateRoom(ctx, r); err != nil {
					return err
				}
				action := s.on
				if undo {
					action = s.off
				}
				cliRoomAudit(ctx, st, action, key, "", nil)
			}
			return f.output(e.stdout, newRoomJSON(r), func(w io.Writer) {
				switch {
				case was == !undo && !undo:
					fmt.Fprintf(w, "room %s was already %s\n", key, s.state)
				case was == !undo:
					fmt.Fprintf(w, "room %s was not %s\n", key, s.state)
				case !undo:
					fmt.Fprintf(w, "room %s is now %s\n", key, s.state)
				default:
					fmt.Fprintf(w, "room %s is no longer %s\n", key, s.state)
				}
			})
		})
	}
	return c
}

func roomDelete(e *cli, f *adminFlags) *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "delete NAME --yes [flags]",
		Short: "Delete a room with its whole history (needs --yes)",
		Long: `Delete a room with its whole history, its members, bans and mutes. This
cannot be undone: archive the room instead to keep its history read-only.
A room created later under the same name starts empty. --yes is required.

` + roomNotTold + `DELETE /api/v1/rooms/NAME,
which also takes everyone in the room out of it. Those in the room when it
is deleted from here stay in it until they leave, but nothing they send to
it is stored.`,
		Args: exactArgs("NAME"),
	}
	c.Flags().BoolVar(&yes, "yes", false, "delete the room and its whole history: there is no undo")
	c.RunE = func(c *cobra.Command, args []string) error {
		key, err := f.roomArg(e, args[0])
		if err != nil {
			return err
		}
		if !yes {
			return usagef("this deletes room %q with its whole history, members, bans and mutes, for good; "+
				"give --yes to go ahead (or archive the room to keep its history)", key)
		}
		return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
			r, err := findRoom(ctx, st, key)
			if err != nil {
				return err
			}
			err = st.DeleteRoom(ctx, key)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("there is no room %q", key) // deleted meanwhile
			}
			if err != nil {
				return err
			}
			cliRoomAudit(ctx, st, audit.RoomDelete, key, "", map[string]any{"last_seq": r.LastSeq})
			out := struct {
				Room    string `json:"room"`
				LastSeq int64  `json:"last_seq"`
			}{key, r.LastSeq}
			return f.output(e.stdout, out, func(w io.Writer) {
				fmt.Fprintf(w, "deleted room %s and its %d %s\n", key, r.LastSeq, plural(int(r.LastSeq), "event"))
			})
		})
	}
	return c
}
