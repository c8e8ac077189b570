/**
 * The run page's logs: the last lines (or those a search matched), and while the run goes on,
 * a poller htmx swaps for itself every second. Each poll's answer appends the new lines to the
 * list and replaces the status out of band; once the run has ended and every line is out, it
 * brings no poller back, so following stops.
 */
import type { LogRecord, RunRecord } from "../store/mod.ts";
import { isFinished, type LogView, MAX_LOG_LINES, SEARCH_SCAN, token } from "./run_data.ts";

export const runHref = (runId: string) => `/runs/${encodeURIComponent(runId)}`;

/** `HH:MM:SS.mmm` of an ISO time (the date is the run's; the full time is its title). */
function clock(iso: string): string {
  return /T(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(iso)?.[1] ?? iso;
}

export function LogLine(props: { line: LogRecord }) {
  const { line } = props;
  const level = token(line.level);
  return (
    <li class={`log-line level-${level}`} data-seq={line.seq}>
      <time datetime={line.ts} title={line.ts}>{clock(line.ts)}</time>
      <span class={`level level-${level}`}>{line.level}</span>
      <span class="log-step">{line.step ?? ""}</span>
      <span class="message">{line.message}</span>
    </li>
  );
}

/** The run's status, which a poll replaces (`oob`) when it changes. */
export function RunStatus(props: { run: RunRecord; oob?: boolean }) {
  const { status } = props.run;
  return (
    <span
      id="run-status"
      class={`status status-${token(status)}`}
      data-run-status={status}
      hx-swap-oob={props.oob ? "true" : undefined}
    >
      {status}
    </span>
  );
}

/** Polls for the lines after `after` (all of them while none is shown). */
function Follow(props: { runId: string; after: number | null }) {
  const query = props.after === null ? "" : `?after=${props.after}`;
  return (
    <p
      id="log-follow"
      class="log-follow"
      hx-get={`${runHref(props.runId)}/logs${query}`}
      hx-trigger="every 1s"
      hx-swap="outerHTML"
    >
      Following live…
    </p>
  );
}

function LogNote(props: { run: RunRecord; logs: LogView }) {
  const { logs, run } = props;
  const search = logs.search;
  if (search) {
    return (
      <p class="log-count">
        {search.matches === 1 ? "1 line matches" : `${search.matches} lines match`} “{search.q}”
        {logs.older && `; the last ${MAX_LOG_LINES} are shown`}
        {search.unread && `; only the newest ${SEARCH_SCAN} lines were searched`}.{" "}
        <a href={runHref(run.run_id)}>All lines</a>
      </p>
    );
  }
  if (logs.lines.length === 0) {
    return <p class="empty log-count">{isFinished(run) ? "No log lines." : "No log lines yet."}</p>;
  }
  return (
    <p class="log-count">
      {logs.older
        ? `Showing the last ${MAX_LOG_LINES} lines; older ones are not shown here (search ` +
          `reaches them, and tau logs ${run.pipeline} --run ${run.run_id} prints them all).`
        : `${logs.lines.length} ${logs.lines.length === 1 ? "line" : "lines"}.`}
    </p>
  );
}

export function LogsSection(props: { run: RunRecord; logs: LogView }) {
  const { run, logs } = props;
  const follow = !logs.search && !isFinished(run);
  return (
    <section id="logs">
      <h2>Logs</h2>
      <form class="log-search" method="get" action={runHref(run.run_id)}>
        <input
          type="search"
          name="q"
          value={logs.search?.q ?? ""}
          maxlength={200}
          placeholder="Search the messages"
          aria-label="Search the log messages"
        />
        <button type="submit">Search</button>
      </form>
      <LogNote run={run} logs={logs} />
      {/* column-reverse keeps the box scrolled to its newest line as lines arrive */}
      <div class="log-scroll">
        <ol id="log-lines">
          {logs.lines.map((line) => <LogLine line={line} />)}
        </ol>
      </div>
      {follow && <Follow runId={run.run_id} after={logs.lines.at(-1)?.seq ?? null} />}
    </section>
  );
}

/** Says the run ended; a poll fills it in (the steps and error need a reload to show). */
export function RunEnded(props: { run: RunRecord | null; oob?: boolean }) {
  const { run } = props;
  if (!run) return <p id="run-ended" class="run-ended" hidden></p>;
  return (
    <p id="run-ended" class="run-ended" hx-swap-oob={props.oob ? "true" : undefined}>
      The run ended {run.status}: <a href={runHref(run.run_id)}>reload</a>{" "}
      for its steps, result and error.
    </p>
  );
}

/**
 * One poll's answer: the lines after `after` appended out of band (an `<ol>` wrapper: htmx
 * strips it and appends its items), the status, and the next poller unless the run has ended
 * and `lines` are its last.
 */
export function FollowFragment(
  props: { run: RunRecord; lines: LogRecord[]; after: number | null },
) {
  const { run, lines } = props;
  const caughtUp = lines.length < MAX_LOG_LINES;
  const ended = isFinished(run) && caughtUp;
  return (
    <>
      {lines.length > 0 && (
        <ol hx-swap-oob="beforeend:#log-lines">
          {lines.map((line) => <LogLine line={line} />)}
        </ol>
      )}
      <RunStatus run={run} oob />
      {ended && <RunEnded run={run} oob />}
      {!ended && <Follow runId={run.run_id} after={lines.at(-1)?.seq ?? props.after} />}
    </>
  );
}
