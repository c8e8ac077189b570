/**
 * Prints how many test files `deno task test` runs at once: DENO_JOBS when set, else one and a
 * half per core. The end-to-end files spend much of their time waiting (on daemons, on runs, on
 * real seconds of a schedule or a lease), so one file per core leaves the CPU idle; on this
 * project's 2-core CI machine 3 jobs take ~4m40s against ~5m40s for 2, and 4 no less than 3.
 */
console.log(Deno.env.get("DENO_JOBS") ?? Math.ceil(navigator.hardwareConcurrency * 1.5));
