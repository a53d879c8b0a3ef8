// ES module entry of @agent-mesh/client (the CommonJS entry is index.js; a test checks that
// this file exports every name index.js does).
import mesh from './index.js'

export const { MeshClient, Kv, Artifacts, Events, Subscription, Timeline, Workflows, Worker, Canceller, MeshError, testEventPattern, valueLimits, errorKinds, cliMain } = mesh
export default mesh
