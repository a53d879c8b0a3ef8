"""ML model training pipeline (guide: "Workflow Examples", 2).

The training job's metadata is kept under the guide's key (ml:training:job-123:metadata) while
it trains; the trained model is stored as an artifact (models/classification/v2.1/model.pkl),
the metadata is marked completed (a conditional write on the version read), and a
ModelTrainingCompleted event announces it. The deployer, subscribed to completed models that
are ready and at least 90% accurate, reads the artifact and records the deployment.

The "training" is a decision stump fitted to a small built-in data set, so the example stays
self-contained; the model is serialized as JSON so any language can load it.

    python examples/python/ml_training.py          # embedded mesh in ./.agent-mesh
    AGENT_MESH_URL="aws://?region=us-east-1" python examples/python/ml_training.py
"""

import json
from typing import Dict, List, Tuple

from agent_mesh import MeshClient

# (feature, label): label 1 above about 50, with three mislabelled points.
DATASET: List[Tuple[int, int]] = [(x, int(x > 50)) for x in range(2, 100, 2)] + [(40, 1), (60, 0), (70, 0)]


def train(data: List[Tuple[int, int]]) -> Dict[str, float]:
    """The threshold that classifies the most points right, and its accuracy."""
    best_threshold, best_correct = 0, -1
    for threshold in sorted({x for x, _ in data}):
        correct = sum(1 for x, label in data if int(x > threshold) == label)
        if correct > best_correct:
            best_threshold, best_correct = threshold, correct
    return {"threshold": best_threshold, "accuracy": round(best_correct / len(data), 2)}


def main() -> None:
    mesh = MeshClient()
    mesh.provision()  # creates the AWS resources on aws://; a no-op locally
    deployer = mesh.events.subscribe({"detail-type": ["ModelTrainingCompleted"],
                                      "detail": {"ready_for_deployment": [True], "accuracy": [{"numeric": [">=", 0.9]}]}})
    job = mesh.kv.set("ml:training:job-123:metadata", {
        "model_type": "classification",
        "dataset_version": "v2.1",
        "hyperparameters": {"learning_rate": 0.001, "epochs": 100},
        "status": "training",
    })
    print(f"stored  {job.key} (v{job.version}): status training")

    model = train(DATASET)
    meta = mesh.artifacts.put("models/classification/v2.1/model.pkl", json.dumps(model).encode(),
                              content_type="application/octet-stream",
                              metadata={"job_id": "job-123", "accuracy": str(model["accuracy"])})
    print(f"stored  {meta.key} ({meta.size} bytes): {json.dumps(model)}")
    done = mesh.kv.set(job.key, {**job.value, "status": "completed", "accuracy": model["accuracy"]}, if_version=job.version)
    print(f"stored  {done.key} (v{done.version}): status completed")
    mesh.events.send("ModelTrainingCompleted", {
        "job_id": "job-123",
        "model_version": "v2.1",
        "accuracy": model["accuracy"],
        "ready_for_deployment": True,
    }, source="ml-training")

    event = deployer.next(timeout=30)
    if event is None:
        raise SystemExit("the deployer received no ModelTrainingCompleted event within 30 s")
    print(f"deployer received {event.detail_type} {json.dumps(event.detail)}")
    artifact = mesh.artifacts.get(f"models/classification/{event.detail['model_version']}/model.pkl")
    if artifact is None:
        raise SystemExit("the model artifact is missing")
    deployment = mesh.kv.set("ml:deployment:classification", {
        "model_version": event.detail["model_version"], "artifact": artifact.meta.key,
        "model": json.loads(artifact.data), "accuracy": event.detail["accuracy"]})
    print(f"stored  {deployment.key} = {json.dumps(deployment.value)}")
    deployer.close()


if __name__ == "__main__":
    main()
