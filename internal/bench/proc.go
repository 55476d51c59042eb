package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// It is 100 on every Linux architecture Go supports; reading it for real
// needs sysconf(_SC_CLK_TCK), which means cgo.
const clockTicks = 100

// Meter samples the CPU time and resident memory of the server process
// (when its pid is known) and of this process.
type Meter struct {
	// ServerPID is the server's process id; 0 when unknown (a remote or
	// in-process server), in which case server figures are reported as
	// unknown.
	ServerPID int
	// MorePIDs are the other nodes of a cluster under test, on this
	// machine: server figures are the sum over ServerPID and these.
	MorePIDs []int
}

// Snapshot is one sample of both processes.
type Snapshot struct {
	At        time.Time
	ServerOK  bool
	ServerCPU time.Duration
	ServerRSS int64
	SelfCPU   time.Duration
	SelfRSS   int64
}

// Sample reads the current figures. A server pid that cannot be read (the
// process ended) leaves ServerOK false.
func (m *Meter) Sample() Snapshot {
	s := Snapshot{At: time.Now()}
	s.SelfCPU = selfCPU()
	s.SelfRSS, _ = procRSS("self")
	if m.ServerPID <= 0 {
		return s
	}
	s.ServerOK = true
	for _, p := range append([]int{m.ServerPID}, m.MorePIDs...) {
		pid := strconv.Itoa(p)
		cpu, err1 := procCPU(pid)
		rss, err2 := procRSS(pid)
		if err1 != nil || err2 != nil {
			s.ServerOK = false
			break
		}
		s.ServerCPU += cpu
		s.ServerRSS += rss
	}
	return s
}

// procCPU returns utime+stime of a process from /proc/<pid>/stat.
func procCPU(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses; the
	// fields after its closing parenthesis are plain.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("bench: malformed /proc/%s/stat", pid)
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("bench: short /proc/%s/stat", pid)
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bench: malformed times in /proc/%s/stat", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// procRSS returns VmRSS of a process, in bytes, from /proc/<pid>/status.
func procRSS(pid string) (int64, error) { return procStatus(pid, "VmRSS:") }

// procStatus returns a size field of /proc/<pid>/status, such as "VmRSS:",
// in bytes.
func procStatus(pid, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte(field)); ok {
			f := bytes.Fields(v)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(string(f[0]), 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, fmt.Errorf("bench: no %s in /proc/%s/status", field, pid)
}

// ResetPeak starts the server's peak resident memory (VmHWM) over from its
// current size, so that ServerPeak tells the peak of what follows rather
// than of the whole run. Linux allows it for a process of the same user
// (clear_refs, since 4.0).
func (m *Meter) ResetPeak() error {
	if m.ServerPID <= 0 {
		return fmt.Errorf("bench: the server's pid is unknown")
	}
	if err := os.WriteFile("/proc/"+strconv.Itoa(m.ServerPID)+"/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("bench: reset the server's peak memory: %w", err)
	}
	return nil
}

// ServerPeak returns the server's peak resident memory (VmHWM) since it
// started or since the last ResetPeak; ok is false when it cannot be read.
func (m *Meter) ServerPeak() (rss int64, ok bool) {
	if m.ServerPID <= 0 {
		return 0, false
	}
	rss, err := procStatus(strconv.Itoa(m.ServerPID), "VmHWM:")
	return rss, err == nil
}

// Usage is the resources both processes used between two snapshots. CPU is
// in cores (1.0 = one core busy the whole time); nil means unknown.
type Usage struct {
	Seconds   float64  `json:"seconds"`
	ServerCPU *float64 `json:"server_cpu_cores"`
	ClientCPU float64  `json:"client_cpu_cores"`
	ServerRSS *int64   `json:"server_rss_bytes"`
	ClientRSS int64    `json:"client_rss_bytes"`
}

// Between returns the usage from a to b; memory is b's.
func Between(a, b Snapshot) Usage {
	wall := b.At.Sub(a.At).Seconds()
	u := Usage{Seconds: wall, ClientRSS: b.SelfRSS}
	if wall > 0 {
		u.ClientCPU = (b.SelfCPU - a.SelfCPU).Seconds() / wall
	}
	if a.ServerOK && b.ServerOK && wall > 0 {
		cpu := (b.ServerCPU - a.ServerCPU).Seconds() / wall
		rss := b.ServerRSS
		u.ServerCPU, u.ServerRSS = &cpu, &rss
	}
	return u
}
