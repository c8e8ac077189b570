/**
 * The run page's middle: its steps as a timeline, its error with the code it points at, the
 * diagnosis and the heals it started, and its params and result. The timeline is SVG because
 * the CSP allows no inline style: a bar's place and length are attributes, not styles.
 */
import type { Diagnosis } from "../heal/types.ts";
import type { HealRecord, Json, RunRecord, StepRecord } from "../store/mod.ts";
import { duration, Status, when } from "./layout.tsx";
import { type ErrorView, jsonText, MAX_STEPS, timeline, token, wholeError } from "./run_data.ts";
import { runHref } from "./run_logs.tsx";

/** The timeline's user units: names on the left, bars on the right. */
const WIDTH = 1000;
const LABEL = 220;
const ROW = 24;
const BAR = 16;

/** A value as JSON in a `<pre>`, cut at its limit (it says so). */
export function JsonBlock(props: { value: Json; class?: string }) {
  const { text, cut } = jsonText(props.value);
  return (
    <>
      <pre class={`json ${props.class ?? ""}`}>{text}</pre>
      {cut !== null && (
        <p class="cut">Cut: the first {text.length} of {cut} characters are shown.</p>
      )}
    </>
  );
}

export function StepsSection(props: { run: RunRecord; steps: StepRecord[]; now: number }) {
  const shown = props.steps.slice(0, MAX_STEPS);
  const bars = timeline(props.run, shown, props.now);
  const height = Math.max(bars.length, 1) * ROW;
  const track = WIDTH - LABEL;
  return (
    <section id="steps">
      <h2>Steps</h2>
      {shown.length === 0 && <p class="empty">No step has started.</p>}
      {bars.length > 0 && (
        <svg
          class="timeline"
          viewBox={`0 0 ${WIDTH} ${height}`}
          role="img"
          aria-label="Steps by start and duration"
        >
          {bars.map((bar, i) => (
            <g
              class={`step status-${token(bar.step.status)}`}
              data-step={bar.step.name}
              aria-label={`${bar.step.name}: ${bar.step.status}, ${duration(bar.step.duration_ms)}`}
            >
              <text class="label" x={LABEL - 8} y={i * ROW + ROW / 2 + 4}>
                {bar.step.name.length > 28 ? `${bar.step.name.slice(0, 27)}…` : bar.step.name}
              </text>
              <rect
                class="bar"
                x={(LABEL + bar.start * track).toFixed(1)}
                y={i * ROW + (ROW - BAR) / 2}
                width={Math.max(bar.width * track, 2).toFixed(1)}
                height={BAR}
                rx={2}
              />
            </g>
          ))}
        </svg>
      )}
      {shown.length > 0 && (
        <table class="steps">
          <thead>
            <tr>
              <th>Step</th>
              <th>Status</th>
              <th>Started</th>
              <th>Duration</th>
              <th>Rows in</th>
              <th>Rows out</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((step) => {
              const error = step.error ? wholeError(props.run, step.error) : null;
              return (
                <tr data-step={step.name}>
                  <td class="name">{step.name}</td>
                  <td>
                    <Status status={step.status} />
                  </td>
                  <td>{when(step.started_at)}</td>
                  <td>{duration(step.duration_ms)}</td>
                  <td class="rows-in">{step.rows_in ?? "—"}</td>
                  <td class="rows-out">{step.rows_out ?? "—"}</td>
                  <td>{error ? `${error.kind}: ${error.message.split("\n", 1)[0]}` : ""}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {props.steps.length > shown.length && (
        <p class="cut">The first {MAX_STEPS} of {props.steps.length} steps are shown.</p>
      )}
    </section>
  );
}

/** Code lines of an excerpt, the located one (`>`) marked. */
function Excerpt(props: { text: string }) {
  return (
    <pre class="excerpt">
      {props.text.split("\n").map((line) => (
        <span class={line.startsWith(">") ? "located" : "around"}>{line + "\n"}</span>
      ))}
    </pre>
  );
}

export function ErrorSection(props: { view: ErrorView }) {
  const { error, location, excerpt } = props.view;
  return (
    <section id="error">
      <h2>Error</h2>
      <p>
        <span class="error-kind">{error.kind}</span>
        {error.step && <span class="error-step">in step {error.step}</span>}
      </p>
      <pre class="error-message">{error.message}</pre>
      {error.hint && <p class="hint">{error.hint}</p>}
      {error.permission && (
        <p class="error-permission">
          Refused: {error.permission} {error.target ?? ""}
        </p>
      )}
      {location && (
        <p>
          At <code class="error-location">{`${location.file}:${location.line}`}</code>
          {location.column > 0 && <span class="column">, column {location.column}</span>}
        </p>
      )}
      {excerpt && <Excerpt text={excerpt} />}
      {location && !excerpt && (
        <p class="empty">The version's stored code has no such line in this file.</p>
      )}
      {error.details && (
        <details>
          <summary>Details</summary>
          <JsonBlock value={error.details as Json} />
        </details>
      )}
      {error.stack && (
        <details>
          <summary>Stack</summary>
          <pre class="stack">{error.stack}</pre>
        </details>
      )}
    </section>
  );
}

/** A suggestion as one line: its action, then its fields. */
function suggestionText(s: Record<string, unknown>): string {
  const { action, ...rest } = s;
  const fields = Object.entries(rest).map(([k, v]) => `${k} ${JSON.stringify(v)}`);
  return [String(action), ...fields].join(", ");
}

/** The version a heal promoted, else the candidate it kept (a dry run), from its record. */
function HealLine(props: { heal: HealRecord; pipeline: string }) {
  const { heal } = props;
  const record = heal.record;
  const version = typeof record.version === "number" ? record.version : null;
  const replays = Array.isArray(record.attempts)
    ? record.attempts.flatMap((a) =>
      a && typeof a === "object" && !Array.isArray(a) && typeof a.run_id === "string"
        ? [a.run_id]
        : []
    )
    : [];
  return (
    <li class={`heal status-${token(heal.status)}`} data-heal={heal.id}>
      <span class="heal-id">{heal.id}</span> <Status status={heal.status} /> {when(heal.created_at)}
      {version !== null && (
        <>
          {" "}—{" "}
          <a href={`/pipelines/${encodeURIComponent(props.pipeline)}`}>
            {record.promoted === true ? "promoted" : "candidate"} version {version}
          </a>
        </>
      )}
      {replays.length > 0 && (
        <span class="replays">
          {" — replays: "}
          {replays.map((id) => (
            <>
              <a href={runHref(id)}>{id}</a>
              {" "}
            </>
          ))}
        </span>
      )}
    </li>
  );
}

export function DiagnosisSection(
  props: { diagnosis: Diagnosis | null; heals: HealRecord[]; pipeline: string },
) {
  const d = props.diagnosis;
  return (
    <section id="diagnosis">
      <h2>Diagnosis</h2>
      {d && (
        <>
          <p>
            <span class="diagnosis-class">{d.class}</span> <span class="summary">{d.summary}</span>
          </p>
          {Array.isArray(d.suggestions) && d.suggestions.length > 0 && (
            <ul class="suggestions">
              {d.suggestions.map((s) => (
                <li>{suggestionText(s as unknown as Record<string, unknown>)}</li>
              ))}
            </ul>
          )}
          {Array.isArray(d.evidence) && d.evidence.length > 0 && (
            <details>
              <summary>Evidence ({d.evidence.length})</summary>
              <ul class="evidence">
                {d.evidence.map((e) => (
                  <li>
                    <code>{e.ref}</code> <q>{e.text}</q>
                  </li>
                ))}
              </ul>
            </details>
          )}
        </>
      )}
      {props.heals.length > 0 && (
        <>
          <h3>Heals</h3>
          <ul class="heals">
            {props.heals.map((h) => <HealLine heal={h} pipeline={props.pipeline} />)}
          </ul>
        </>
      )}
    </section>
  );
}
