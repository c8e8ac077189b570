import { pipeline } from "tau";

// The smallest useful run: one log line and a result.
export default pipeline({ name: "bench_fleet" }, (ctx) => {
  ctx.log("hi");
  return { ok: true };
});
