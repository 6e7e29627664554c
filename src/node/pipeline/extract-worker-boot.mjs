// Worker-thread bootstrap: the project runs from TypeScript sources through tsx, and a worker does
// not inherit the parent's module hooks, so it registers tsx before loading the real entry.
import { register } from "tsx/esm/api";

register();
await import("./extract-worker.ts");
