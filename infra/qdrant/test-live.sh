#!/usr/bin/env bash
# `npm run test:qdrant`: the checks that need a real Qdrant (docs/qdrant.md "Live checks").
#   1. the VectorStore conformance suite on it (test/store/qdrant.test.ts, its live part);
#   2. bootstrap with the cluster layout and a re-index behind an alias (test/store/qdrant-live.test.ts);
#   3. the kill-one-node drill (test/drills/qdrant-node-loss.ts), when QDRANT_DRILL_KILL and
#      QDRANT_DRILL_RESTORE say how to stop and restart a node.
# Not run where this project is built: no Qdrant server can run there.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${QDRANT_URL:?npm run test:qdrant needs QDRANT_URL (and QDRANT_API_KEY if the server has one)}"
npx vitest run test/store/qdrant.test.ts test/store/qdrant-live.test.ts
npx tsx test/drills/qdrant-node-loss.ts
