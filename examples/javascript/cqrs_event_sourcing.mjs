// CQRS with event sourcing (guide: "Integration Patterns", 2).
//
// Commands are UserProfileUpdated events, appended to the user's stream user/user123/profile:
// the timeline under user/user123/ is the user's history (the event store). A projector
// subscribed to the events folds that history into the current state, the read model kept in
// the KV under user:user123:profile. Queries read the KV; the history is read from the timeline.
//
//   node examples/javascript/cqrs_event_sourcing.mjs          # embedded mesh in ./.agent-mesh
//   AGENT_MESH_URL="aws://?region=us-east-1" node examples/javascript/cqrs_event_sourcing.mjs
import { MeshClient } from '@agent-mesh/client'

const COMMANDS = [['email', 'new@email.com'], ['display_name', 'Ann'], ['email', 'ann@example.com']]

const mesh = await MeshClient.open()
await mesh.provision() // creates the AWS resources on aws://; a no-op locally

// Folds the user's history, oldest first, up to the event `eventId` into the current state, and
// stores it unless the read model already holds a later state (events may arrive out of order:
// SQS on AWS does not keep it).
async function project(userId, eventId) {
  const state = { user_id: userId, events_applied: 0 }
  for (const entry of (await mesh.timeline.get(`user/${userId}/`, { order: 'oldest', limit: 1000 })).items) {
    const change = entry.data.detail
    state[change.field] = change.new_value
    state.events_applied += 1
    if (entry.data.id === eventId) break
  }
  const current = await mesh.kv.get(`user:${userId}:profile`)
  if (!current || current.value.events_applied < state.events_applied) await mesh.kv.set(`user:${userId}:profile`, state)
  return state
}

const sorted = (value) => Object.fromEntries(Object.entries(value).sort())
const projector = await mesh.events.subscribe({ 'detail-type': ['UserProfileUpdated'], source: ['profile-service'] })

// Command side: each update is an event on the user's stream.
for (const [field, value] of COMMANDS) {
  await mesh.events.send({
    detailType: 'UserProfileUpdated',
    detail: { user_id: 'user123', field, new_value: value },
    source: 'profile-service',
    stream: 'user/user123/profile',
  })
  console.log(`command UserProfileUpdated ${field} = ${value}`)
}

// Projector: each event it hears brings the read model up to date with the history.
for (let i = 0; i < COMMANDS.length; i++) {
  const event = await projector.next(30000)
  if (!event) throw new Error('the projector received no UserProfileUpdated event within 30 s')
  const state = await project(event.detail.user_id, event.id)
  console.log(`projector received ${event.detail.field} = ${event.detail.new_value}: state after it ${JSON.stringify(sorted(state))}`)
}
await projector.close()

// Query side: the current state from the KV, the history from the timeline.
const profile = await mesh.kv.get('user:user123:profile')
console.log(`query   user:user123:profile = ${JSON.stringify(profile ? sorted(profile.value) : null)}`)
console.log('history user/user123/ (newest first):')
for (const entry of (await mesh.timeline.get('user/user123/', { limit: 50 })).items) {
  const change = entry.data.detail
  console.log(`  ${entry.time.toISOString()}  ${entry.stream}  ${change.field} = ${change.new_value}`)
}
