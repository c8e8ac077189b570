// The npm drivers approved for use inside the sandbox. Tau caches exactly these (as locked in
// deno.lock) into the module cache runs can see; nothing else can be imported at run time.
import "postgres";
import "mysql2/promise";
import "@aws-sdk/client-s3";
import "csv-parse/stream";
import "csv-stringify/sync";
