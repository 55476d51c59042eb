package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/parley-chat/parley/client"
)

// Styles. Fixed colours, never lipgloss's adaptive ones: those ask the
// terminal for its background and wait for an answer some never give.
var (
	headerStyle  = lipgloss.NewStyle().Bold(true).Reverse(true).Padding(0, 1)
	noticeStyle  = lipgloss.NewStyle().Faint(true).Italic(true)
	pendingStyle = lipgloss.NewStyle().Faint(true)
	namePalette  = []lipgloss.Color{"1", "2", "3", "4", "5", "6", "9", "10", "11", "12", "13", "14"}
)

// Messages of the chat program besides the terminal's.
type (
	eventMsg   struct{ ev client.Event }
	closedMsg  struct{ err error }
	backlogMsg struct {
		msgs []client.Message
		err  error
	}
	sentMsg struct {
		line *chatLine // the pending line
		ack  client.Ack
		err  error
	}
)

// chatLine is one line of the conversation: a message (msg set) or a
// notice.
type chatLine struct {
	msg     *client.Message
	notice  string
	pending bool // own message waiting for its ack
}

// chatModel is the state of "parley chat".
type chatModel struct {
	ctx     context.Context
	c       *client.Client
	room    string
	me      client.User
	typeGap time.Duration // how often a typing start is repeated

	lines  []*chatLine
	byID   map[string]*chatLine // by message id
	typing map[string]string    // user id → name, of those typing now

	vp          viewport.Model
	input       textinput.Model
	width       int
	ready       bool
	lastTyping  time.Time // when a typing start was last sent; zero after a stop
	err         error     // why the client stopped
	pendingSent int
}

func newChatModel(ctx context.Context, c *client.Client, j client.Joined) *chatModel {
	in := textinput.New()
	in.Placeholder = "Type a message; Enter sends, /quit leaves"
	in.Prompt = "> "
	in.Focus()
	s := c.Session()
	m := &chatModel{ctx: ctx, c: c, room: j.Room, me: s.User, byID: map[string]*chatLine{}, typing: map[string]string{},
		input: in, typeGap: time.Duration(s.Limits.TypingTimeoutMS) * time.Millisecond / 2}
	if m.typeGap <= 0 {
		m.typeGap = 3 * time.Second
	}
	if s.Limits.MaxMessageLength > 0 {
		m.input.CharLimit = s.Limits.MaxMessageLength
	}
	return m
}

// Init loads the backlog and starts reading events.
func (m *chatModel) Init() tea.Cmd {
	return tea.Batch(textinput.Blink, m.loadBacklog, m.nextEvent)
}

func (m *chatModel) loadBacklog() tea.Msg {
	msgs, err := m.c.History(m.ctx, m.room, client.HistoryOptions{Limit: chatBacklog})
	slices.Reverse(msgs)
	return backlogMsg{msgs: msgs, err: err}
}

// nextEvent waits for the client's next event; the Update that handles it
// asks for the one after.
func (m *chatModel) nextEvent() tea.Msg {
	ev, ok := <-m.c.Events()
	if !ok {
		return closedMsg{err: m.c.Err()}
	}
	return eventMsg{ev}
}

// Update handles one message.
func (m *chatModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width = msg.Width
		h := max(msg.Height-3, 1) // header, typing line, input
		if !m.ready {
			m.vp, m.ready = viewport.New(msg.Width, h), true
		} else {
			m.vp.Width, m.vp.Height = msg.Width, h
		}
		m.input.Width = max(msg.Width-3, 1)
		m.render()
		return m, nil
	case tea.KeyMsg:
		return m.key(msg)
	case backlogMsg:
		if msg.err != nil {
			m.notice("could not load earlier messages: " + msg.err.Error())
		}
		// The backlog goes before what arrived while it loaded.
		var past []*chatLine
		for _, h := range msg.msgs {
			if _, ok := m.byID[h.ID]; !ok {
				l := &chatLine{msg: &h}
				m.byID[h.ID] = l
				past = append(past, l)
			}
		}
		m.lines = append(past, m.lines...)
		m.render()
		return m, nil
	case eventMsg:
		m.event(msg.ev)
		m.render()
		return m, m.nextEvent
	case closedMsg:
		m.err = msg.err
		return m, tea.Quit
	case sentMsg:
		l := msg.line
		l.pending = false
		m.pendingSent--
		if msg.err != nil {
			l.notice = "not sent: " + msg.err.Error()
			l.msg = nil
		} else {
			l.msg.ID, l.msg.Seq, l.msg.TS = msg.ack.MessageID, msg.ack.Seq, msg.ack.TS
			m.byID[msg.ack.MessageID] = l
		}
		m.render()
		return m, nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return m, cmd
}

// key handles a key press.
func (m *chatModel) key(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch k.Type {
	case tea.KeyCtrlC, tea.KeyEsc:
		return m, tea.Quit
	case tea.KeyPgUp:
		m.vp.PageUp()
		return m, nil
	case tea.KeyPgDown:
		m.vp.PageDown()
		return m, nil
	case tea.KeyEnter:
		text := strings.TrimSpace(m.input.Value())
		m.input.Reset()
		m.lastTyping = time.Time{} // sending ends the indicator on the server
		switch {
		case text == "":
			return m, m.typingCmd(false)
		case text == "/quit":
			return m, tea.Quit
		}
		return m, m.send(text)
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(k)
	return m, tea.Batch(cmd, m.typingCmd(m.input.Value() != ""))
}

// typingCmd sends a typing start at most every typeGap while there is
// text, and a stop once the input is cleared.
func (m *chatModel) typingCmd(typing bool) tea.Cmd {
	now := time.Now()
	switch {
	case typing && now.Sub(m.lastTyping) >= m.typeGap:
		m.lastTyping = now
	case !typing && !m.lastTyping.IsZero():
		m.lastTyping = time.Time{}
	default:
		return nil
	}
	c, ctx, room := m.c, m.ctx, m.room
	return func() tea.Msg {
		_ = c.Typing(ctx, room, typing) // at most once: nothing to do if it fails
		return nil
	}
}

// send shows text as pending and sends it; the ack, or the reason it was
// not sent, comes back as a sentMsg.
func (m *chatModel) send(text string) tea.Cmd {
	line := &chatLine{pending: true,
		msg: &client.Message{Room: m.room, From: m.me, Text: text, TS: time.Now().UTC().Format(time.RFC3339Nano)}}
	m.lines = append(m.lines, line)
	m.pendingSent++
	m.render()
	c, ctx, room := m.c, m.ctx, m.room
	return func() tea.Msg {
		ack, err := c.Send(ctx, room, text)
		return sentMsg{line: line, ack: ack, err: err}
	}
}

// event applies one client event.
func (m *chatModel) event(ev client.Event) {
	switch ev.Type {
	case client.EventMessage:
		if ev.Room == m.room {
			m.addMessage(ev.Message)
		}
	case client.EventUpdate:
		if l, ok := m.byID[ev.Update.Message.ID]; ok && ev.Room == m.room {
			msg := ev.Update.Message
			l.msg = &msg
		}
	case client.EventPresence:
		if ev.Room == m.room && ev.Presence.User.ID != m.me.ID {
			verb := "joined"
			if ev.Presence.Event == "leave" {
				verb = "left"
				delete(m.typing, ev.Presence.User.ID)
			}
			m.notice(ev.Presence.User.Name + " " + verb)
		}
	case client.EventTyping:
		if ev.Room == m.room && ev.Typing.User.ID != m.me.ID {
			if ev.Typing.State == "start" {
				m.typing[ev.Typing.User.ID] = ev.Typing.User.Name
			} else {
				delete(m.typing, ev.Typing.User.ID)
			}
		}
	case client.EventSystem:
		if ev.System.Room == "" || ev.System.Room == m.room {
			m.notice(ev.System.Text)
		}
	case client.EventLeft:
		if ev.Room == m.room {
			m.notice("you were removed from " + m.room)
		}
	case client.EventReconnected:
		clear(m.typing)
		m.notice("reconnected")
	case client.EventError:
		if m.c.Err() == nil { // the final error comes again as closedMsg
			m.notice(ev.Err.Error())
		}
	}
}

// addMessage adds a message once.
func (m *chatModel) addMessage(msg *client.Message) {
	if _, ok := m.byID[msg.ID]; ok {
		return
	}
	l := &chatLine{msg: msg}
	m.byID[msg.ID] = l
	m.lines = append(m.lines, l)
	if msg.From.ID != m.me.ID {
		delete(m.typing, msg.From.ID) // the server stops it too
	}
}

func (m *chatModel) notice(text string) {
	m.lines = append(m.lines, &chatLine{notice: text})
}

// render refills the viewport, following the newest line unless the user
// scrolled up.
func (m *chatModel) render() {
	if !m.ready {
		return
	}
	follow := m.vp.AtBottom()
	var b strings.Builder
	wrap := lipgloss.NewStyle().Width(max(m.width, 10))
	for i, l := range m.lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(wrap.Render(m.lineText(l)))
	}
	m.vp.SetContent(b.String())
	if follow {
		m.vp.GotoBottom()
	}
}

// lineText formats a line: "15:04 name: text".
func (m *chatModel) lineText(l *chatLine) string {
	if l.msg == nil {
		return noticeStyle.Render("— " + l.notice)
	}
	when := ""
	if t, err := time.Parse(time.RFC3339Nano, l.msg.TS); err == nil {
		when = t.Local().Format("15:04") + " "
	}
	name := lipgloss.NewStyle().Bold(true).Foreground(nameColor(l.msg.From.ID)).Render(l.msg.From.Name)
	text := l.msg.Text
	switch {
	case l.msg.Deleted:
		text = noticeStyle.Render("(deleted)")
	case l.msg.EditedAt != "":
		text += noticeStyle.Render(" (edited)")
	}
	for _, r := range l.msg.Reactions {
		text += fmt.Sprintf(" [%s %d]", r.Emoji, len(r.Users))
	}
	if l.pending {
		return pendingStyle.Render(when+l.msg.From.Name+": "+l.msg.Text) + noticeStyle.Render(" (sending…)")
	}
	return when + name + ": " + text
}

// nameColor gives each user a colour of their own.
func nameColor(id string) lipgloss.Color {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return namePalette[h.Sum32()%uint32(len(namePalette))]
}

// View draws the screen: header, messages, typing line, input.
func (m *chatModel) View() string {
	if !m.ready {
		return "connecting…"
	}
	online := len(m.c.Members(m.room))
	header := fmt.Sprintf("#%s · %d online · you are %s", m.room, online, m.me.Name)
	if m.pendingSent > 0 {
		header += fmt.Sprintf(" · sending %d", m.pendingSent)
	}
	var typing []string
	for _, name := range m.typing {
		typing = append(typing, name)
	}
	slices.Sort(typing)
	typingLine := ""
	switch len(typing) {
	case 0:
	case 1:
		typingLine = typing[0] + " is typing…"
	default:
		typingLine = strings.Join(typing, ", ") + " are typing…"
	}
	return headerStyle.Width(max(m.width, 1)).Render(header) + "\n" +
		m.vp.View() + "\n" + noticeStyle.Render(typingLine) + "\n" + m.input.View()
}
