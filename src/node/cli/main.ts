/**
 * Entry of the `region-search` command (bin/region-search.js runs it through tsx). The environment
 * is read here, once; everything below gets it as a plain record.
 */
import { processIo } from "./io.js";
import { runCli } from "./program.js";

process.exitCode = await runCli(process.argv.slice(2), processIo());
