// Financial services: risk results with a 1-hour TTL and a rebalancing event (guide: "Use Cases
// by Domain").
//
// The value at risk (95%, one day, historical) of two portfolios is computed from their daily
// returns and stored under the guide's key risk:portfolio:<name>:var with a 1-hour TTL (it is
// refreshed hourly). A portfolio whose VaR crosses the 0.10 threshold triggers a
// RiskThresholdExceeded event; the rebalancer, subscribed to it, records a rebalancing order.
//
//   node examples/javascript/financial_risk.mjs          # embedded mesh in ./.agent-mesh
//   AGENT_MESH_URL="aws://?region=us-east-1" node examples/javascript/financial_risk.mjs
import { MeshClient } from '@agent-mesh/client'

const THRESHOLD = 0.1
const DAILY_RETURNS = { // 20 trading days each
  'tech-fund': [0.021, -0.150, 0.034, -0.042, 0.012, -0.180, 0.051, 0.008, -0.031, 0.027,
    -0.064, 0.019, 0.044, -0.012, 0.003, -0.090, 0.038, 0.015, -0.025, 0.060],
  'bond-fund': [0.002, -0.004, 0.003, -0.030, 0.001, 0.002, -0.001, 0.004, -0.002, 0.001,
    -0.045, 0.003, 0.002, -0.003, 0.001, 0.000, -0.002, 0.003, 0.001, -0.001],
}

// Historical VaR: the loss exceeded on only (1 - confidence) of the days.
function valueAtRisk(returns, confidence = 0.95) {
  const worstFirst = [...returns].sort((a, b) => a - b)
  return Math.round(-worstFirst[Math.floor(returns.length * (1 - confidence))] * 10000) / 10000
}

const mesh = await MeshClient.open()
await mesh.provision() // creates the AWS resources on aws://; a no-op locally
const rebalancer = await mesh.events.subscribe({ 'detail-type': ['RiskThresholdExceeded'], detail: { action: ['rebalance'] } })

for (const [portfolio, returns] of Object.entries(DAILY_RETURNS)) {
  const risk = valueAtRisk(returns)
  const item = await mesh.kv.set(`risk:portfolio:${portfolio}:var`, {
    value_at_risk: risk, confidence: 0.95, time_horizon: '1d', calculated_at: '2024-01-15T16:00:00Z',
  }, { ttlHours: 1 }) // refreshed hourly
  console.log(`stored  ${item.key} = ${risk} (expires ${item.expiresAt?.toISOString()})`)
  if (risk > THRESHOLD) {
    await mesh.events.send({
      detailType: 'RiskThresholdExceeded',
      detail: { portfolio, current_var: risk, threshold: THRESHOLD, action: 'rebalance' },
      source: 'risk-engine',
    })
    console.log(`event   RiskThresholdExceeded for ${portfolio}: ${risk} > ${THRESHOLD}`)
  }
}

const event = await rebalancer.next(30000)
if (!event) throw new Error('the rebalancer received no RiskThresholdExceeded event within 30 s')
console.log(`rebalancer received ${event.detailType} ${JSON.stringify(event.detail)}`)
const order = await mesh.kv.set(`rebalance:${event.detail.portfolio}:order`, {
  status: 'pending', reduce_var_by: Math.round((event.detail.current_var - event.detail.threshold) * 10000) / 10000,
})
console.log(`stored  ${order.key} = ${JSON.stringify(order.value)}`)
await rebalancer.close()
