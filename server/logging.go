package server

import (
	"io"
	"log/slog"
	"os"

	"github.com/parley-chat/parley/internal/lograte"
)

// NewLogger builds the server's structured logger.
func NewLogger(format, level string, w io.Writer) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	o := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// serverLogger is the logger a server logs through: the embedding
// program's, or one built from the configuration, with repeats of the
// same warning or error rate limited (package lograte), so that a full
// disk or a database that is down is one line every few seconds and not
// one per refused message. The server closes the limiter as it stops.
func serverLogger(cfg Config, opts Options) (*slog.Logger, *lograte.Handler) {
	log := opts.Logger
	if log == nil {
		log = NewLogger(cfg.LogFormat, cfg.LogLevel, opts.LogOutput)
	}
	limiter := lograte.New(log.Handler(), lograte.DefaultInterval)
	return slog.New(limiter), limiter
}
