// Package fsutil writes odmn's output files and directories so that no
// reader ever sees one half written, and checks output paths against input
// paths before anything is written.
//
// Every output goes first to a temporary sibling named
// ".<name>.tmp-<pid>-<random>" and is renamed over the target when
// complete. The process id in the name lets a later run tell the leftovers
// of a killed process (kill -9, a crash, a lost machine) from the temporary
// files of a run still going: [Create], [MkdirTemp] and [CleanStale] remove
// the former and leave the latter alone.
//
// Files are created with mode 0644 and directories with 0755, less the
// process umask, as os.WriteFile and os.Mkdir would (os.CreateTemp and
// os.MkdirTemp make 0600 and 0700, which others in a team cannot read).
//
// Errors name the target path the caller asked for, never the temporary
// one.
package fsutil
