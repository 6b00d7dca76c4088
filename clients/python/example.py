#!/usr/bin/env python3
"""A ResilienceGrpc client in Python: copy from here.

    python3 example.py STUBS REGRESSION_ADDRESS STUDY_ADDRESS HTTP_URL

STUBS is the folder generate.sh wrote; the addresses are host:port of a regression and a
study server (h2c); HTTP_URL is a regression service's HTTP/JSON port (serve --http-port).
It prints one JSON line per step, so a test can compare the numbers.
"""
import json
import sys
import urllib.request

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402  (Debian: python3-grpcio)
from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from resilience.regression.v1 import regression_pb2 as reg, regression_pb2_grpc as reg_grpc  # noqa: E402
from resilience.study.v1 import study_pb2 as study, study_pb2_grpc as study_grpc  # noqa: E402


def fit_request():
    return reg.FitRequest(
        dependent="y",
        regressors=["a"],
        covariance_type=reg.COVARIANCE_TYPE_HC1,
        columns=[
            reg.Column(name="y", values=[1, 3, 2, 5, 4, 6, 8, 7]),
            reg.Column(name="a", values=[1, 2, 3, 4, 5, 6, 7, 9]),
        ],
    )


def field_violations(error: grpc.RpcError):
    """The google.rpc.BadRequest field violations of a rich error (grpc-status-details-bin)."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad = error_details_pb2.BadRequest()
                    detail.Unpack(bad)
                    return [v.field for v in bad.field_violations]
    return []


def main():
    _, _, regression_address, study_address, http_url = sys.argv

    # 1. A fit.
    with grpc.insecure_channel(regression_address) as channel:
        client = reg_grpc.RegressionServiceStub(channel)
        fit = client.Fit(fit_request(), timeout=60)
        print(json.dumps({"step": "fit", "estimate": fit.coefficients[0].estimate,
                          "std_error": fit.coefficients[0].std_error}))

        # 2. A bad request: INVALID_ARGUMENT, and the field at fault from the details.
        bad = fit_request()
        bad.covariance_type = reg.COVARIANCE_TYPE_UNSPECIFIED
        try:
            client.Fit(bad, timeout=60)
            print(json.dumps({"step": "bad", "error": None}))
        except grpc.RpcError as e:
            print(json.dumps({"step": "bad", "code": e.code().name, "fields": field_violations(e)}))

    # 3. A whole study, reading the progress stream.
    with grpc.insecure_channel(study_address) as channel:
        client = study_grpc.StudyServiceStub(channel)
        request = study.RunStudyRequest(
            dataset="sample",
            spec=study.StudySpec(bootstrap=reg.BootstrapOptions(replications=0),
                                 multiverse=study.MultiverseSpec(disabled=True)))
        progress, report = 0, None
        for event in client.RunStudy(request, timeout=300):
            if event.HasField("progress"):
                progress += 1
            else:
                report = event.report
        main_table = next(t for t in report.tables if t.models)
        print(json.dumps({"step": "study", "progress": progress, "tables": len(report.tables),
                          "first_table": main_table.id,
                          "first_estimate": main_table.models[0].fit.coefficients[0].estimate}))

    # 4. The same fit over HTTP/JSON, with nothing but the standard library.
    body = json.dumps({"dependent": "y", "regressors": ["a"], "covarianceType": "COVARIANCE_TYPE_HC1",
                       "columns": [{"name": "y", "values": [1, 3, 2, 5, 4, 6, 8, 7]},
                                   {"name": "a", "values": [1, 2, 3, 4, 5, 6, 7, 9]}]}).encode()
    req = urllib.request.Request(http_url.rstrip("/") + "/v1/regression:fit", data=body,
                                 headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as response:
        answer = json.load(response)
    print(json.dumps({"step": "http", "estimate": answer["coefficients"][0]["estimate"]}))


if __name__ == "__main__":
    main()
