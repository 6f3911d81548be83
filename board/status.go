package board

// Status is what became of a run, as the board tells it from its folder.
type Status string

// The statuses of a run, decided in this order:
//
//   - Malformed: a file of the folder cannot be read or parsed (JSON that
//     does not parse, a metrics row cut short or holding a cell that is not
//     a number, a file over its size limit), or the folder holds no
//     config.json while no process trains into it (an empty folder). The
//     run's Problem says which file, and where; the rows that parse are
//     still drawn.
//   - Finished: summary.json is present, without early_stopped.
//   - StoppedEarly: summary.json is present with early_stopped true.
//   - Running: no summary.json, and a process holds the lock that a
//     training run holds on the folder's .dlrun.lock from its start to
//     its end (see running_linux.go for how the board tells, without
//     touching the file).
//   - Failed: no summary.json and no process trains into the folder: the
//     run failed, or was killed (a resume continues it).
const (
	Malformed    Status = "malformed"
	Finished     Status = "finished"
	StoppedEarly Status = "stopped early"
	Running      Status = "running"
	Failed       Status = "failed"
)

// statusOf returns the status of a run folder from what the board read of
// it: problems with its files, whether it holds a summary and whether it
// said it stopped early, and whether a process trains into it.
func statusOf(problems []string, hasSummary, stopped, running bool) Status {
	switch {
	case len(problems) > 0:
		return Malformed
	case hasSummary && stopped:
		return StoppedEarly
	case hasSummary:
		return Finished
	case running:
		return Running
	}
	return Failed
}
