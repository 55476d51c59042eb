// Package bench is the load tool behind "parley bench": scenarios that
// drive a Parley server over loopback with the project's Go client
// (package client) and measure it.
//
// Scenarios:
//
//   - idle: N connections, each in a room; the server's resident memory per
//     connection, the time to connect them all and the memory left after
//     they close.
//   - fanout: S members in one room and one publisher stepping through send
//     rates; per step deliveries per second, the delivered ratio and
//     send-to-delivery latency, and the highest step that stays at 99.9%
//     delivered with p99 under 250 ms.
//   - chat: R rooms of M members, each member sending at a set rate;
//     deliveries per second, send-to-ack and send-to-delivery latency.
//   - storm: C clients connected as fast as the server takes them, then
//     cut and reconnected all at once with recovery of the messages sent
//     while they were away.
//   - publish: a backend on the HTTP API with an API key: posts per second
//     into a room with no members, one message a request and 100 a
//     request; posts into a room of S members stepping through rates, with
//     post-to-delivery latency as fanout measures it; and notifications to
//     N offline subscribers of a topic (external users the tool signs HS256
//     tokens for): the time to store one, the server's memory around it,
//     and whether chat posts wait for it.
//
// Every run is bounded in connections, rate and time. The tool reports its
// own CPU use next to the server's (from /proc when the server's pid is
// known), so a reader can tell when the load generator, not the server, is
// the limit. Latencies go into fixed log-scale histograms: recording a
// sample allocates nothing and takes no lock.
package bench
