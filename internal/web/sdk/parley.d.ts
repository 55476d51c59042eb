// Type declarations for the Parley JavaScript SDK (/sdk/parley.js).
// Payloads are the wire protocol's bodies, unchanged: field names and
// meanings are those of docs/PROTOCOL.md. A field that is optional there is
// absent (not null) when it has no value.

/** Where the client's state machine is. */
export type ClientState = "disconnected" | "connecting" | "connected" | "reconnecting" | "closed";

/** Options of a ParleyClient. Give one of token, getToken, guest or guestToken. */
export interface ParleyClientOptions {
  /** The server's WebSocket endpoint, such as "wss://chat.example.com/ws". */
  url: string;
  /** An access token (Parley's own or an integrating app's JWT), sent in the first `auth` frame. */
  token?: string;
  /**
   * Returns a fresh token: called before the session's expires_at (renewal
   * over an `auth` frame), after a close with 4001/4002, and before
   * connecting when no token is held. Return null to give up (the client
   * closes). A rejection is retried with backoff, unless it is an HttpError
   * with a 4xx status other than 429 (the refresh token is no longer good),
   * which closes the client.
   */
  getToken?: () => Promise<string | null | undefined> | string | null | undefined;
  /** Connect as a new guest with this display name (true or "": a random name); needs --guests on the server. */
  guest?: string | true;
  /** A guest_token from an earlier welcome: come back as that same guest. */
  guestToken?: string;
  /** The WebSocket constructor to use. Default: globalThis.WebSocket. */
  WebSocket?: new (url: string, protocols?: string | string[]) => WebSocket;
  /** Timeout of requests other than sends, in ms. Default 10000. 0: none. */
  requestTimeoutMs?: number;
  /** Timeout of sends (chat and private), in ms. Default 0: wait for the ack across reconnects until close(). */
  sendTimeoutMs?: number;
  /** How long one connection attempt may take to bring the welcome, in ms. Default 10000. */
  handshakeTimeoutMs?: number;
  /** Backoff base: the n-th retry waits a random time in [0, min(backoffMaxMs, backoffMinMs × 2^n)]. Default 500. */
  backoffMinMs?: number;
  /** Backoff ceiling, in ms. Default 30000. */
  backoffMaxMs?: number;
  /** A connection that stayed up this long resets the backoff, in ms. Default 60000. */
  stableAfterMs?: number;
  /** Renew the token this long before expires_at (at most half its remaining life), in ms. Default 60000. */
  renewBeforeMs?: number;
  /** Read markers are sent at most once per this many ms per room. Default 1000. */
  readDelayMs?: number;
  /** Page size when paging history to fill a gap the server could not replay. Default 500. */
  recoveryPageSize?: number;
  /** At most this many of the newest missed events are paged after an unrecoverable gap. Default 10000. */
  recoveryMaxMessages?: number;
}

/** A user as the wire shows one. */
export interface User {
  id: string;
  name: string;
  guest?: boolean;
}

/** The session's limits, from welcome. */
export interface Limits {
  max_frame_bytes: number;
  max_message_length: number;
  max_room_name_length: number;
  max_rooms: number;
  rate_messages: number;
  rate_burst: number;
  typing_timeout_ms: number;
  recovery_window: number;
}

/** The first frame of every connection. */
export interface Welcome {
  session: string;
  user: User;
  protocol: string;
  server: string;
  heartbeat_ms: number;
  timeout_ms: number;
  expires_at?: string;
  guest_token?: string;
  limits: Limits;
}

/** The reply to join. */
export interface Joined {
  room: string;
  private: boolean;
  topic?: string;
  last_seq: number;
  /** The first users by id, at most the server's bound (100). */
  members: User[];
  /** Everyone in the room. */
  member_count: number;
  locked?: boolean;
  archived?: boolean;
  recovered?: boolean;
  replayed?: number;
}

/** A reaction on a message. */
export interface Reaction {
  emoji: string;
  users: string[];
}

/** A stored message (message, private and history frames). */
export interface Message {
  room: string;
  id: string;
  seq: number;
  ts: string;
  from: User;
  to?: string;
  text: string;
  client_id?: string;
  edited_at?: string;
  deleted?: boolean;
  reactions?: Reaction[];
}

/** The server's confirmation that a change is stored. */
export interface Ack {
  room: string;
  message_id: string;
  seq: number;
  ts: string;
  duplicate?: boolean;
}

/** An edit, deletion or reaction. */
export interface Update {
  room: string;
  seq: number;
  kind: "edit" | "delete" | "reaction";
  actor: string;
  emoji?: string;
  removed?: boolean;
  message: Message;
}

/** Someone's first connection entered a room, or their last left it. */
export interface Presence {
  room: string;
  user: User;
  event: "join" | "leave";
}

/** Someone started or stopped typing. */
export interface TypingEvent {
  room: string;
  user: User;
  state: "start" | "stop";
}

/** A read marker: yours in force, or another member's receipt. */
export interface ReadReceipt {
  room: string;
  user: User;
  seq: number;
}

/** Unread state of one room or conversation. */
export interface UnreadEntry {
  room: string;
  direct?: boolean;
  unread: number;
  last_seq: number;
  read_seq: number;
}

/** A notice for people. */
export interface SystemNotice {
  room?: string;
  text: string;
}

/** A member's role in a room. */
export type Role = "owner" | "admin" | "member";

/** A room frame: a room you belong to changed (PROTOCOL.md, "room"). */
export interface RoomChange {
  room: string;
  event: "added" | "removed" | "role" | "updated";
  /** The member it concerns (added, removed, role). */
  user?: string;
  /** That member's role now (added, role). */
  role?: Role;
  /** Who made the change: a user id, or "system" for the application's backend. */
  by?: string;
  /** The room as it now is. */
  private: boolean;
  topic?: string;
}

/** You were added to a room: it is in client.rooms, "invited" until joined. */
export interface RoomAddedEvent {
  room: Room;
  change: RoomChange;
}

/** You were removed from a room; room is null when this client never knew it. */
export interface RoomRemovedEvent {
  room: Room | null;
  change: RoomChange;
}

/** A notification from the application (PROTOCOL.md, "notification"). */
export interface Notification {
  id: string;
  topic?: string;
  title: string;
  body?: string;
  data?: Record<string, unknown>;
  link?: string;
  ts: string;
  read?: boolean;
}

/** A page of notifications, newest first, and how many of all yours are unread. */
export interface NotificationsPage {
  notifications: Notification[];
  unread: number;
}

/** Notifications were marked read, on this device or another: ids, or all. */
export interface NotificationsRead {
  ids?: string[];
  all?: boolean;
  unread: number;
}

/** A notifications page request. */
export interface NotificationsOptions extends RequestOptions {
  /** Only notifications older than the one with this id. */
  before?: string;
  /** Only unread ones. */
  unread?: boolean;
  /** Page size, 1 to 1000; default 50. */
  limit?: number;
}

/** A send still waiting for its ack. */
export interface OutboxEntry {
  type: "chat" | "private";
  client_id: string;
  room?: string;
  to?: string;
  text: string;
}

/** Options of one request. */
export interface RequestOptions {
  /** Overrides requestTimeoutMs (sendTimeoutMs for sends) for this call, in ms. */
  timeout?: number;
}

/** A history page request. */
export interface HistoryOptions extends RequestOptions {
  before?: number;
  after?: number;
  limit?: number;
}

/** The HTTP API's answer to register, login and refresh. */
export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  expires_at: string;
  user: { id: string; username: string; name: string; admin: boolean };
}

/** GET /api/v1/users/{username}. */
export interface PublicUser {
  id: string;
  username: string;
  name: string;
}

/** A room's history could not be replayed: events after since up to lastSeq were paged from pagedFrom on. */
export interface GapEvent {
  room: string;
  since: number;
  lastSeq: number;
  pagedFrom: number;
}

/** A (re)join completed. */
export interface JoinedEvent {
  room: Room;
  joined: Joined;
  rejoin: boolean;
}

/** A room was left, or you were removed from it (removed true). */
export interface LeftEvent {
  room: string;
  removed: boolean;
}

/** Events of a ParleyClient, by name. */
export interface ClientEvents {
  state: { state: ClientState; previous: ClientState };
  connected: { welcome: Welcome; reconnected: boolean };
  /** Every room is re-joined and caught up after a (re)connect. */
  synced: { reconnected: boolean };
  disconnected: { code: number; reason: string; willRetry: boolean; delayMs: number };
  closed: { error: ParleyError | null };
  message: Message;
  private: Message;
  update: Update;
  presence: Presence;
  typing: TypingEvent;
  read: ReadReceipt;
  unread: UnreadEntry;
  system: SystemNotice;
  joined: JoinedEvent;
  left: LeftEvent;
  gap: GapEvent;
  token: { expiresAt: string | null };
  error: Error;
  /** A room you belong to changed; client.rooms is already up to date. */
  room: RoomChange;
  /** You were added to a room (invited). */
  roomAdded: RoomAddedEvent;
  /** You were removed from a room. */
  roomRemoved: RoomRemovedEvent;
  /** A notification this client had not seen: live, or unread after a (re)connect (oldest first). */
  notification: Notification;
  /** notificationsUnread changed. */
  notificationsUnread: { unread: number };
  /** Notifications were marked read, here or on another device. */
  notificationsRead: NotificationsRead;
  /** A server frame type this SDK does not know. */
  frame: { type: string; body: Record<string, unknown> };
}

/** Events of a Room, by name. */
export interface RoomEvents {
  message: Message;
  update: Update;
  presence: Presence;
  typing: TypingEvent;
  read: ReadReceipt;
  system: SystemNotice;
  members: Map<string, User>;
  joined: JoinedEvent;
  left: LeftEvent;
  gap: GapEvent;
  /** The room, or your role in it, changed. */
  room: RoomChange;
}

declare class Emitter<E> {
  /** Calls fn with every event of this name; returns a function that stops it. */
  on<K extends keyof E>(event: K, fn: (payload: E[K]) => void): () => void;
  /** Stops calling fn for this event. */
  off<K extends keyof E>(event: K, fn: (payload: E[K]) => void): void;
  /** Calls fn with the next event of this name only. */
  once<K extends keyof E>(event: K, fn: (payload: E[K]) => void): () => void;
}

/** One Parley session over one WebSocket, for all rooms, re-established across disconnects. */
export declare class ParleyClient extends Emitter<ClientEvents> {
  constructor(options: ParleyClientOptions);
  readonly options: Required<Omit<ParleyClientOptions, "token" | "getToken" | "guest" | "guestToken" | "WebSocket">> & ParleyClientOptions;
  /** Where the state machine is. */
  readonly state: ClientState;
  /** The welcome of the current (or last) connection. */
  readonly welcome: Welcome | null;
  /** A guest's token: store it to come back as the same guest. */
  readonly guestToken: string | null;
  /** Unread state by room key. */
  readonly unread: Map<string, UnreadEntry>;
  /** Rooms by normalised key: joined, invited (added by someone else) or left. */
  readonly rooms: Map<string, Room>;
  /** How many of your notifications are unread, as the server last counted them. */
  readonly notificationsUnread: number;
  /** Sends still waiting for their ack, oldest first. */
  readonly outbox: OutboxEntry[];
  /** Opens the session; resolves with the first welcome, rejects with ClosedError if the client stops first. */
  connect(): Promise<Welcome>;
  /** Ends the session; waiting requests and sends reject with ClosedError. */
  close(): void;
  /** Joins a room; with since, what came after it is delivered first. */
  join(name: string, opts?: RequestOptions & { since?: number }): Promise<Room>;
  /** The Room with this normalised key: joined, invited or left. */
  room(key: string): Room | undefined;
  /** Leaves a room on this connection. */
  leave(room: string, opts?: RequestOptions): Promise<{ room: string }>;
  /** Sends a private message to a user id; resolves on the ack. */
  sendPrivate(to: string, text: string, opts?: RequestOptions): Promise<Ack>;
  /** Replaces the text of your own message. */
  edit(room: string, messageId: string, text: string, opts?: RequestOptions): Promise<Ack>;
  /** Deletes a message. */
  delete(room: string, messageId: string, opts?: RequestOptions): Promise<Ack>;
  /** Adds a reaction, or removes it with remove: true. */
  react(room: string, messageId: string, emoji: string, opts?: RequestOptions & { remove?: boolean }): Promise<Ack>;
  /** A page of a room's or conversation's messages. */
  history(room: string, opts?: HistoryOptions): Promise<Message[]>;
  /** Moves your read marker (batched per readDelayMs); resolves with the marker in force. */
  markRead(room: string, seq: number): Promise<ReadReceipt>;
  /** An application ping; resolves with the round trip in ms. */
  ping(opts?: RequestOptions): Promise<number>;
  /** Subscribes your account to notifications on the topics a pattern matches ("orders.*", "deploys.>"). */
  subscribe(pattern: string, opts?: RequestOptions): Promise<{ topic: string }>;
  /** Ends a subscription; one you do not hold rejects with not_found. */
  unsubscribe(pattern: string, opts?: RequestOptions): Promise<{ topic: string }>;
  /** A page of your notifications, newest first. */
  notifications(opts?: NotificationsOptions): Promise<NotificationsPage>;
  /** Marks notifications read (ids, or "all"); your other devices are told. */
  markNotificationsRead(ids: string[] | "all", opts?: RequestOptions): Promise<NotificationsRead>;
  /** Sends any client frame and resolves with its reply's body (the extension point). */
  request<T = Record<string, unknown>>(type: string, body?: Record<string, unknown>, opts?: RequestOptions): Promise<T>;
  /** Looks an account up by username over the HTTP API. */
  lookupUser(username: string): Promise<PublicUser>;
}

/** A room joined, invited to or left; the same object lives across reconnects. */
export declare class Room extends Emitter<RoomEvents> {
  /** The client this room belongs to. */
  readonly client: ParleyClient;
  /** The normalised room key. */
  readonly name: string;
  /** invited: you were added to it but have not joined it; left: not joined, and not re-joined on reconnect. */
  readonly state: "joined" | "invited" | "left";
  readonly topic: string;
  readonly private: boolean;
  /** Your role as the last room frame about you told it; null until one does. */
  readonly role: Role | null;
  /** Users connected to the room, by id: the first ones, up to the server's bound. */
  readonly members: Map<string, User>;
  /** How many users are connected to the room, listed in members or not. */
  readonly memberCount: number;
  /** Only the owner and admins may post (room frames and joins keep it current). */
  readonly locked: boolean;
  /** No one may post. */
  readonly archived: boolean;
  /** Users typing now, by id. */
  readonly typingUsers: Map<string, User>;
  /** The highest seq up to which every event was delivered. */
  readonly lastSeq: number;
  /** Sends a message; resolves on the ack (the send survives reconnects). */
  send(text: string, opts?: RequestOptions): Promise<Ack>;
  edit(messageId: string, text: string, opts?: RequestOptions): Promise<Ack>;
  delete(messageId: string, opts?: RequestOptions): Promise<Ack>;
  react(messageId: string, emoji: string, opts?: RequestOptions & { remove?: boolean }): Promise<Ack>;
  history(opts?: HistoryOptions): Promise<Message[]>;
  /** Moves your read marker, by default to lastSeq. */
  markRead(seq?: number): Promise<ReadReceipt>;
  /** Call on every keystroke; sends "start" at most once per half typing_timeout_ms. */
  typing(): void;
  /** Sends "stop" if a start is in force. */
  stopTyping(): void;
  /** Joins the room (an invited or a left one); resolves with this Room. */
  join(opts?: RequestOptions & { since?: number }): Promise<Room>;
  leave(opts?: RequestOptions): Promise<{ room: string }>;
}

/** Base class of every error of the SDK. */
export declare class ParleyError extends Error {
  /** A server error code ("not_joined", "rate_limited", …) or the SDK's own ("timeout", "disconnected", "closed", "too_large"). */
  readonly code: string;
}

/** An error frame from the server. */
export declare class ServerError extends ParleyError {
  /** With rate_limited: how long to wait. */
  readonly retryAfterMs: number;
}

/** No reply within the request's timeout (code "timeout"). */
export declare class TimeoutError extends ParleyError {}

/** The connection was lost before the reply (code "disconnected"); the request may or may not have taken effect. */
export declare class DisconnectedError extends ParleyError {}

/** The client stopped for good (code "closed"). */
export declare class ClosedError extends ParleyError {
  /** The server's close code, 0 when the client was closed locally. */
  readonly closeCode: number;
  readonly reason: string;
}

/** A failed HTTP API request; code is the API's error code. */
export declare class HttpError extends ParleyError {
  readonly status: number;
  readonly retryAfterMs: number;
}

/** POST /api/v1/auth/register. baseUrl may be the http(s) or ws(s) URL of the server. */
export declare function register(baseUrl: string, account: { username: string; password: string; displayName?: string }): Promise<TokenResponse>;
/** POST /api/v1/auth/login. */
export declare function login(baseUrl: string, account: { username: string; password: string }): Promise<TokenResponse>;
/** POST /api/v1/auth/refresh: a new token pair; the refresh token sent stops working. */
export declare function refresh(baseUrl: string, refreshToken: string): Promise<TokenResponse>;
/** A getToken for ParleyClient that refreshes an account's tokens; overlapping calls share one refresh. */
export declare function tokenRefresher(baseUrl: string, tokens: TokenResponse, onTokens?: (tokens: TokenResponse) => void): () => Promise<string>;
