/** The run page's rules (added to the one stylesheet in style.ts). */
export const RUN_CSS = `
.crumbs { margin: 0; font-size: 0.9rem; }
.run-id { font-family: ui-monospace, monospace; font-weight: 500; }
dl.run-summary, dl.limits, dl.sandbox { display: flex; flex-wrap: wrap; gap: 0.4rem 1.6rem; margin: 0 0 1rem; }
dl.run-summary dt, dl.limits dt, dl.sandbox dt { color: #5b6573; font-size: 0.75rem; text-transform: uppercase; }
dl.run-summary dd, dl.limits dd, dl.sandbox dd { margin: 0; }
.status.status-cancelled, .status.status-skipped { color: #5b6573; }
.status.status-promoted { color: #067647; }
.run-ended { background: #eff8ff; padding: 0.4rem 0.6rem; border-radius: 0.3rem; }
#logs, #steps, #error, #diagnosis, #data, #permissions, #sandbox { background: #fff; padding: 0.6rem 1rem 1rem;
  margin-bottom: 1rem; border-radius: 0.5rem; }
#logs h2, #steps h2, #error h2, #diagnosis h2, #data h2, #permissions h2, #sandbox h2 { font-size: 1.05rem;
  margin: 0.4rem 0 0.6rem; }
form.log-search { display: flex; gap: 0.4rem; margin-bottom: 0.4rem; }
form.log-search input { flex: 1; max-width: 28rem; }
.log-count, .cut, .audit { color: #5b6573; font-size: 0.85rem; margin: 0.3rem 0; }
.log-scroll { display: flex; flex-direction: column-reverse; max-height: 34rem; overflow: auto;
  background: #0f1720; color: #d7dde5; border-radius: 0.3rem; }
ol#log-lines { list-style: none; margin: 0; padding: 0.4rem 0.6rem;
  font: 0.8rem/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
li.log-line { display: grid; grid-template-columns: 7.5rem 3.8rem 7rem 1fr; gap: 0.6rem; }
li.log-line time { color: #8a96a6; }
li.log-line .log-step { color: #9cc3ff; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
li.log-line .message { white-space: pre-wrap; overflow-wrap: anywhere; }
.level-warn .level { color: #fdb022; }
.level-error .level, .level-stderr .level { color: #f97066; }
.level-system .level, .level-debug .level { color: #8a96a6; }
.level-error .message { color: #fecdca; }
.log-follow { color: #5b6573; font-size: 0.85rem; margin: 0.4rem 0 0; }
svg.timeline { width: 100%; height: auto; display: block; margin-bottom: 0.6rem; }
svg.timeline .label { text-anchor: end; font-size: 13px; fill: #1d2430; }
svg.timeline .bar { fill: #98a2b3; }
svg.timeline .status-success .bar { fill: #12b76a; }
svg.timeline .status-failed .bar, svg.timeline .status-timed_out .bar { fill: #f04438; }
svg.timeline .status-running .bar { fill: #2e90fa; }
table.steps, table.access { width: 100%; border-collapse: collapse; font-size: 0.9rem; }
table.steps th, table.steps td, table.access th, table.access td { text-align: left; padding: 0.3rem 0.5rem;
  border-bottom: 1px solid #e3e6ea; vertical-align: top; }
.rows-in, .rows-out { font-variant-numeric: tabular-nums; }
.error-kind { font-family: ui-monospace, monospace; font-weight: 700; color: #b42318; }
.error-step { margin-left: 0.6rem; color: #5b6573; }
pre.error-message, pre.excerpt, pre.json, pre.stack, pre.flags { white-space: pre-wrap;
  overflow-wrap: anywhere; background: #f6f7f9; padding: 0.5rem 0.7rem; border-radius: 0.3rem;
  font-size: 0.82rem; max-height: 30rem; overflow: auto; }
pre.excerpt .located { display: block; background: #fee4e2; font-weight: 600; }
pre.excerpt .around { display: block; }
.hint { color: #5b6573; }
.diagnosis-class { font-family: ui-monospace, monospace; font-weight: 700; }
ul.heals li { margin: 0.2rem 0; }
tr.grant.used .use { color: #067647; font-weight: 600; }
tr.grant.unused .use { color: #5b6573; }
tr.grant.denied { background: #fef3f2; }
tr.grant.denied .use { color: #b42318; font-weight: 600; }
.deny-net code { margin-right: 0.4rem; display: inline-block; }
`;
