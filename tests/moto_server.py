"""moto's server with DynamoDB requests serialised.

Stock moto evaluates a DynamoDB ConditionExpression and applies the write without a lock, so two
concurrent conditional writes can both pass (seen here: 195 of 200 concurrent `if_version`
increments kept). DynamoDB itself makes each conditional write atomic; running DynamoDB
requests one at a time restores that guarantee. Every other service stays concurrent.

    python tests/moto_server.py HOST PORT
"""

import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

_dynamodb = threading.Lock()


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)

    def serialised(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with _dynamodb:
                # Consume the whole response inside the lock.
                return list(app(environ, start_response))
        return app(environ, start_response)

    run_simple(host, port, serialised, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
