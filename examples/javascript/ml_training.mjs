// ML model training pipeline (guide: "Workflow Examples", 2).
//
// The training job's metadata is kept under the guide's key (ml:training:job-123:metadata)
// while it trains; the trained model is stored as an artifact
// (models/classification/v2.1/model.pkl), the metadata is marked completed (a conditional write
// on the version read), and a ModelTrainingCompleted event announces it. The deployer,
// subscribed to completed models that are ready and at least 90% accurate, reads the artifact
// and records the deployment.
//
// The "training" is a decision stump fitted to a small built-in data set, so the example stays
// self-contained; the model is serialized as JSON so any language can load it.
//
//   node examples/javascript/ml_training.mjs          # embedded mesh in ./.agent-mesh
//   AGENT_MESH_URL="aws://?region=us-east-1" node examples/javascript/ml_training.mjs
import { MeshClient } from '@agent-mesh/client'

// [feature, label]: label 1 above about 50, with three mislabelled points.
const DATASET = [...Array(49).keys()].map((i) => [2 + 2 * i, 2 + 2 * i > 50 ? 1 : 0]).concat([[40, 1], [60, 0], [70, 0]])

// The threshold that classifies the most points right, and its accuracy.
function train(data) {
  let bestThreshold = 0
  let bestCorrect = -1
  for (const threshold of [...new Set(data.map(([x]) => x))].sort((a, b) => a - b)) {
    const correct = data.filter(([x, label]) => (x > threshold ? 1 : 0) === label).length
    if (correct > bestCorrect) [bestThreshold, bestCorrect] = [threshold, correct]
  }
  return { threshold: bestThreshold, accuracy: Math.round((bestCorrect / data.length) * 100) / 100 }
}

const mesh = await MeshClient.open()
await mesh.provision() // creates the AWS resources on aws://; a no-op locally
const deployer = await mesh.events.subscribe({
  'detail-type': ['ModelTrainingCompleted'],
  detail: { ready_for_deployment: [true], accuracy: [{ numeric: ['>=', 0.9] }] },
})
const job = await mesh.kv.set('ml:training:job-123:metadata', {
  model_type: 'classification',
  dataset_version: 'v2.1',
  hyperparameters: { learning_rate: 0.001, epochs: 100 },
  status: 'training',
})
console.log(`stored  ${job.key} (v${job.version}): status training`)

const model = train(DATASET)
const meta = await mesh.artifacts.put('models/classification/v2.1/model.pkl', Buffer.from(JSON.stringify(model)), {
  contentType: 'application/octet-stream',
  metadata: { job_id: 'job-123', accuracy: String(model.accuracy) },
})
console.log(`stored  ${meta.key} (${meta.size} bytes): ${JSON.stringify(model)}`)
const done = await mesh.kv.set(job.key, { ...job.value, status: 'completed', accuracy: model.accuracy }, { ifVersion: job.version })
console.log(`stored  ${done.key} (v${done.version}): status completed`)
await mesh.events.send({
  detailType: 'ModelTrainingCompleted',
  detail: { job_id: 'job-123', model_version: 'v2.1', accuracy: model.accuracy, ready_for_deployment: true },
  source: 'ml-training',
})

const event = await deployer.next(30000)
if (!event) throw new Error('the deployer received no ModelTrainingCompleted event within 30 s')
console.log(`deployer received ${event.detailType} ${JSON.stringify(event.detail)}`)
const artifact = await mesh.artifacts.get(`models/classification/${event.detail.model_version}/model.pkl`)
if (!artifact) throw new Error('the model artifact is missing')
const deployment = await mesh.kv.set('ml:deployment:classification', {
  model_version: event.detail.model_version, artifact: artifact.meta.key, model: JSON.parse(artifact.data), accuracy: event.detail.accuracy,
})
console.log(`stored  ${deployment.key} = ${JSON.stringify(deployment.value)}`)
await deployer.close()
