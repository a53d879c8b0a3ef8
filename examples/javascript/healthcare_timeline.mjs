// Healthcare: patient timeline and care-team coordination (guide: "Use Cases by Domain").
//
// Lab results are stored under the guide's keys (patient:12345:timeline:<date>) and appended to
// the patient's timeline; each result is announced with a LabResultsAvailable event. Two
// subscribers coordinate the care team: the care team hears of every result of patient 12345,
// the on-call physician only of critical ones. Finally the patient's timeline is read back in
// order.
//
//   node examples/javascript/healthcare_timeline.mjs          # embedded mesh in ./.agent-mesh
//   AGENT_MESH_URL="aws://?region=us-east-1" node examples/javascript/healthcare_timeline.mjs
import { MeshClient } from '@agent-mesh/client'

const LAB_RESULTS = [
  { date: '2024-01-15', results: { glucose: 95, cholesterol: 180 }, provider: 'Dr. Smith', critical: false },
  { date: '2024-01-16', results: { potassium: 6.8 }, provider: 'Dr. Jones', critical: true },
]

const mesh = await MeshClient.open()
await mesh.provision() // creates the AWS resources on aws://; a no-op locally
// Subscribers start before anything is sent: a subscription sees events from when it opens.
const careTeam = await mesh.events.subscribe({ 'detail-type': ['LabResultsAvailable'], detail: { patient_id: ['12345'] } })
const onCall = await mesh.events.subscribe({ 'detail-type': ['LabResultsAvailable'], detail: { critical: [true] } })

for (const lab of LAB_RESULTS) {
  const record = { event_type: 'lab_result', results: lab.results, provider: lab.provider, timestamp: `${lab.date}T10:30:00Z` }
  await mesh.kv.set(`patient:12345:timeline:${lab.date}`, record)
  await mesh.timeline.append('patient/12345/labs', record)
  await mesh.events.send({
    detailType: 'LabResultsAvailable',
    detail: { patient_id: '12345', critical: lab.critical, provider: lab.provider, date: lab.date },
    source: 'lab-system',
    stream: 'patient/12345/notifications',
  })
  console.log(`stored  patient:12345:timeline:${lab.date} and notified the care team`)
}

for (const [name, subscription, expected] of [['care-team', careTeam, 2], ['on-call', onCall, 1]]) {
  for (let i = 0; i < expected; i++) {
    const event = await subscription.next(30000)
    if (!event) throw new Error(`${name}: no LabResultsAvailable event within 30 s`)
    console.log(`${name} received ${event.detailType} ${JSON.stringify(event.detail)}`)
  }
  await subscription.close()
}

console.log('timeline of patient/12345/ (oldest first):')
for (const entry of (await mesh.timeline.get('patient/12345/', { order: 'oldest', limit: 20 })).items) {
  // Events are stored whole (the EventBridge envelope); appended records as they were given.
  console.log(`  ${entry.stream.padEnd(28)} ${JSON.stringify(entry.data.detail ?? entry.data)}`)
}
