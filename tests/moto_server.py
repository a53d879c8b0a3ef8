"""moto's server with DynamoDB and EventBridge requests serialised and cheap transaction rollback.

Stock moto evaluates a DynamoDB ConditionExpression and applies the write without a lock, so two
concurrent conditional writes can both pass (seen here: 195 of 200 concurrent `if_version`
increments kept). DynamoDB itself makes each conditional write atomic; running DynamoDB
requests one at a time restores that guarantee. Every other service stays concurrent.

moto backs up every table a TransactWriteItems touches with a deep copy, once per item, so a
transaction's cost grows with the table (the timeline appends by transaction; 5,000 appends
would take hours). Below, a transaction snapshots only the items it touches and restores them if
it fails. This leans on moto's internals, so tests/with-moto.sh pins the moto version.

    python tests/moto_server.py HOST PORT
"""

import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

_dynamodb = threading.Lock()
# moto's PutEvents iterates a bus's rules while DeleteRule may remove one in another thread; the
# PutEvents then fails with a 500 after delivering to some rules, and the SDK's retry delivers
# the event to those again. EventBridge requests run one at a time here (delivery to SQS is an
# in-process call, not a request, so nothing waits on itself).
_eventbridge = threading.Lock()


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)

    def serialised(environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        lock = _dynamodb if target.startswith("DynamoDB") else _eventbridge if target.startswith("AWSEvents.") else None
        if lock is not None:
            with lock:
                # Consume the whole response inside the lock.
                return list(app(environ, start_response))
        return app(environ, start_response)

    run_simple(host, port, serialised, threaded=True, use_reloader=False)


# --- proposed: cheap rollback for TransactWriteItems -------------------------------------------
# moto backs up every table a transaction touches with copy.deepcopy, once per item: the cost of a
# transaction grows with the table (500 three-item transactions into one table take over a
# minute, 5,000 take hours). Snapshot only the items the transaction touches instead, and put them
# back if it fails. DynamoDB requests already run one at a time (above), so nothing interleaves.
import copy as _copy

import moto.dynamodb.models as _ddb
from moto.dynamodb.models.table import Table as _Table

_in_transaction = threading.local()


class _CopyWithoutTableBackups:
    """`copy` for moto.dynamodb.models: a table deep-copied inside a transaction is not copied."""

    @staticmethod
    def deepcopy(value, memo=None):
        if getattr(_in_transaction, "on", False) and isinstance(value, _Table):
            return value
        return _copy.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(_copy, name)


_ddb.copy = _CopyWithoutTableBackups()
_transact_write_items = _ddb.DynamoDBBackend.transact_write_items


def _transact_with_item_snapshots(self, transact_items):
    snapshot = []
    for entry in transact_items:
        kind, op = next(iter(entry.items()))
        table = self.tables.get(op.get("TableName"))
        if table is None:
            continue
        try:
            if kind == "Put":
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            current = self.get_item(op["TableName"], key)
        except Exception:  # moto's own code reports the bad request
            continue
        snapshot.append((op["TableName"], key, _copy.deepcopy(current)))
    _in_transaction.on = True
    try:
        return _transact_write_items(self, transact_items)
    except Exception:
        for table_name, key, old in reversed(snapshot):
            if old is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, old.to_json()["Attributes"])
        raise
    finally:
        _in_transaction.on = False


_ddb.DynamoDBBackend.transact_write_items = _transact_with_item_snapshots


if __name__ == "__main__":
    main()
