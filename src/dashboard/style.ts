/**
 * The dashboard's one stylesheet, served from the daemon (the CSP allows no inline style): the
 * base here, each page's own rules beside its page.
 */
import { DAG_CSS } from "./dag_page.tsx";
import { PIPELINE_CSS } from "./pipeline_views.tsx";
import { RUN_CSS } from "./run_style.ts";

const BASE_CSS = `
:root { font-family: system-ui, sans-serif; color: #1d2430; background: #f6f7f9; }
body { margin: 0; }
header { display: flex; justify-content: space-between; align-items: center;
  padding: 0.6rem 1.2rem; background: #1d2430; color: #fff; }
header a.brand { color: #fff; font-weight: 700; text-decoration: none; }
header .logout { display: flex; gap: 0.6rem; align-items: center; }
main { padding: 1.2rem; max-width: 72rem; margin: 0 auto; }
h1 { font-size: 1.3rem; }
header nav { display: flex; gap: 1rem; margin-right: auto; margin-left: 2rem; }
header nav a { color: #d0d5dd; text-decoration: none; }
header nav a:hover { color: #fff; }
table.pipelines, table.listing { width: 100%; border-collapse: collapse; background: #fff; }
table.pipelines th, table.pipelines td, table.listing th, table.listing td { text-align: left; padding: 0.5rem; border-bottom: 1px solid #e3e6ea;
  vertical-align: top; }
.name { font-weight: 600; }
.version, .schedule, .description, .help, .scope { color: #5b6573; font-size: 0.85rem; }
.tag { display: inline-block; margin: 0.15rem 0.3rem 0 0; padding: 0 0.35rem; border-radius: 0.3rem;
  background: #e8ecf2; font-size: 0.8rem; }
.status-failed .status, .status-timed_out .status, .status.status-failed,
  .status.status-timed_out, .status.status-lost { color: #b42318; font-weight: 600; }
.status-success .status, .status.status-success { color: #067647; }
.status.status-running, .status.status-queued { color: #175cd3; }
.strip { white-space: nowrap; }
.mark { display: inline-block; width: 0.55rem; height: 1.1rem; margin-right: 2px; border-radius: 2px;
  background: #c2c8d0; }
.mark-success { background: #12b76a; }
.mark-failed, .mark-timed_out { background: #f04438; }
.mark-running, .mark-queued { background: #2e90fa; }
form.login { max-width: 22rem; margin: 3rem auto; display: grid; gap: 0.6rem; background: #fff;
  padding: 1.5rem; border-radius: 0.5rem; }
.error { color: #b42318; }
`;

export const DASHBOARD_CSS = [BASE_CSS, PIPELINE_CSS, DAG_CSS, RUN_CSS].join("\n");
