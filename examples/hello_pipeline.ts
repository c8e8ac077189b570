/**
 * The smallest useful pipeline: two steps, structured logs, a result.
 *
 *   tau deploy examples/hello_pipeline.ts
 *   tau run hello_world
 *   tau inspect hello_world --last-run
 */
import { pipeline } from "tau";

interface Person {
  id: number;
  name: string;
}

export default pipeline({
  name: "hello_world",
  description: "My first pipeline",
  tags: ["example"],
}, async (ctx) => {
  ctx.log("Hello from Tau!");

  const people = await ctx.step("extract", (step) => {
    const data: Person[] = [{ id: 1, name: "Alice" }, { id: 2, name: "Bob" }];
    step.rowsOut = data.length;
    return data;
  });
  ctx.log(`Extracted ${people.length} records`);

  const upper = await ctx.step("transform", (step) => {
    step.rowsIn = people.length;
    const out = people.map((p) => ({ ...p, name: p.name.toUpperCase() }));
    step.rowsOut = out.length;
    step.metadata.names = out.map((p) => p.name);
    return out;
  });

  return { records_processed: upper.length, greeting: ctx.params.greeting ?? "hello" };
});
