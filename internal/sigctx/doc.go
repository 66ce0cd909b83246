// Package sigctx turns the signals that ask a process to stop (SIGINT from
// Ctrl-C, SIGTERM from schedulers, container runtimes and kill) into the
// cancellation of a context, so that every odmn command stops the same way
// on either: after the current batch, keeping what it promised to keep
// (a training checkpoint) and removing its temporary files.
package sigctx
