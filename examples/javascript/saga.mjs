// Saga pattern for distributed transactions (guide: "Integration Patterns", 3).
//
// A BookingRequested event starts the booking saga (examples/workflows/booking-saga.json):
// reserve a flight, reserve a hotel, charge the payment. When a step fails, the state machine's
// Catch runs the compensation steps (cancel the hotel, cancel the flight) and the execution fails
// with BookingFailed. Two bookings run: saga-789 is confirmed, saga-790's card is declined and
// its reservations are compensated. Each service keeps the saga state in the KV, as the guide does.
//
// The services are functions in this program. Each Task of the state machine sends an event
// with its task token (events:putEvents.waitForTaskToken); this program receives it, does the
// work and answers with sendTaskSuccess or sendTaskFailure. That works on the embedded engine and
// on Step Functions alike, with no Lambda or ECS task to deploy.
//
//   node examples/javascript/saga.mjs          # embedded mesh in ./.agent-mesh
//   AGENT_MESH_URL="aws://?region=us-east-1" node examples/javascript/saga.mjs
import { readFileSync } from 'node:fs'
import { MeshClient } from '@agent-mesh/client'

const DEFINITION = new URL('../workflows/booking-saga.json', import.meta.url)
const PAYMENT_LIMIT = 2000
const STEPS = ['reserve_flight', 'reserve_hotel', 'charge_payment']
const UNDO = { reserve_flight: 'cancel_flight', reserve_hotel: 'cancel_hotel', charge_payment: 'refund_payment' }

// The bus the definition's Tasks send to. The embedded engine ignores the name; on AWS it is the
// mesh's bus: AGENT_MESH_EVENT_BUS, else <prefix>agent-mesh-<env> (what provision() makes).
function eventBus() {
  const query = new URL(process.env.AGENT_MESH_URL || 'local://').searchParams
  const env = query.get('env') || process.env.AGENT_MESH_ENV || 'dev'
  return process.env.AGENT_MESH_EVENT_BUS || `${query.get('prefix') || ''}agent-mesh-${env}`
}

const mesh = await MeshClient.open()
await mesh.provision() // creates the AWS resources on aws://; a no-op locally

// Updates the saga state the guide keeps under saga:<id>:state.
async function record(booking, step, status) {
  const key = `saga:${booking.saga_id}:state`
  const item = await mesh.kv.get(key)
  if (!item) throw new Error(`${key} is missing: the coordinator writes it when the saga starts`)
  const state = item.value
  state.status = status
  state.steps_completed.push(step)
  if (state.steps_remaining.includes(step)) {
    state.steps_remaining = state.steps_remaining.filter((s) => s !== step)
    state.rollback_actions.unshift(UNDO[step])
  }
  await mesh.kv.set(key, state, { ifVersion: item.version })
}

class PaymentDeclined extends Error {}

const SERVICES = {
  async ReserveFlight(b) {
    await mesh.kv.set(`booking:${b.saga_id}:flight`, { flight_id: b.flight_id, status: 'reserved' })
    await record(b, 'reserve_flight', 'flight_booked')
    return { confirmation: `FL-${b.flight_id}` }
  },
  async ReserveHotel(b) {
    await mesh.kv.set(`booking:${b.saga_id}:hotel`, { hotel_id: b.hotel_id, status: 'reserved' })
    await record(b, 'reserve_hotel', 'hotel_booked')
    return { confirmation: `HT-${b.hotel_id}` }
  },
  async ChargePayment(b) {
    if (b.amount > PAYMENT_LIMIT) {
      await record(b, 'payment_declined', 'compensating')
      throw new PaymentDeclined(`card of ${b.user_id} declined: ${b.amount} is over the limit of ${PAYMENT_LIMIT}`)
    }
    await record(b, 'charge_payment', 'confirmed')
    return { receipt: `PAY-${b.saga_id}` }
  },
  async CancelHotel(b) {
    await mesh.kv.set(`booking:${b.saga_id}:hotel`, { hotel_id: b.hotel_id, status: 'cancelled' })
    await record(b, 'cancel_hotel', 'compensating')
    return {}
  },
  async CancelFlight(b) {
    await mesh.kv.set(`booking:${b.saga_id}:flight`, { flight_id: b.flight_id, status: 'cancelled' })
    await record(b, 'cancel_flight', 'compensated')
    return {}
  },
}

// Does the work a Task asked for and reports the outcome to the workflow.
async function serve(task) {
  const { booking, task_token: token } = task.detail
  try {
    const result = await SERVICES[task.detailType](booking)
    console.log(`  ${booking.saga_id}: ${task.detailType} done ${JSON.stringify(result)}`)
    await mesh.workflows.sendTaskSuccess(token, result)
  } catch (e) {
    if (!(e instanceof PaymentDeclined)) throw e
    console.log(`  ${booking.saga_id}: ${task.detailType} failed: ${e.message}`)
    await mesh.workflows.sendTaskFailure(token, 'PaymentDeclined', e.message)
  }
}

await mesh.workflows.create('booking-saga', readFileSync(DEFINITION, 'utf8').replaceAll('${EventBus}', eventBus()))
const requests = await mesh.events.subscribe({ 'detail-type': ['BookingRequested'] })
const tasks = await mesh.events.subscribe({ source: ['booking-saga'] })
for (const [sagaId, amount] of [['saga-789', 850], ['saga-790', 4200]]) {
  await mesh.events.send({
    detailType: 'BookingRequested',
    detail: { saga_id: sagaId, flight_id: 'fl-123', hotel_id: 'ht-456', user_id: 'user123', amount },
    source: 'booking-api',
  })
}

const runs = new Map()
while (runs.size < 2) { // the saga coordinator: each request starts one execution
  const request = await requests.next(30000)
  if (!request) throw new Error('no BookingRequested event arrived within 30 s')
  const sagaId = request.detail.saga_id
  await mesh.kv.set(`saga:${sagaId}:state`, { status: 'started', steps_completed: [], steps_remaining: STEPS, rollback_actions: [] })
  runs.set(sagaId, await mesh.workflows.start('booking-saga', request.detail))
  console.log(`started booking-saga for ${sagaId} (amount ${request.detail.amount})`)
}

const running = async () => {
  for (const run of runs.values()) if ((await mesh.workflows.describe(run.arn)).status === 'RUNNING') return true
  return false
}
while (await running()) {
  const task = await tasks.next(250)
  if (task) await serve(task)
}
await requests.close()
await tasks.close()

for (const [sagaId, run] of runs) {
  const done = await mesh.workflows.describe(run.arn)
  const outcome = done.status === 'SUCCEEDED' ? JSON.stringify(done.output) : `${done.error}: ${done.cause ?? '(no cause given)'}`
  console.log(`saga ${sagaId}: ${done.status} ${outcome}`)
  const state = await mesh.kv.get(`saga:${sagaId}:state`)
  console.log(`  saga:${sagaId}:state = ${JSON.stringify(state?.value ?? null)}`)
}
