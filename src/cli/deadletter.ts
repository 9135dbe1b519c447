// `spoolgate deadletter list|requeue|purge` (O1 #17): src/cli/queue.ts does the work.
export { runDeadLetter as run } from './queue.js';
