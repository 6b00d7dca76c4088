#!/usr/bin/env node
// A ResilienceGrpc client in Node.js: copy from here.
//
//   node example.js REGRESSION_ADDRESS STUDY_ADDRESS HTTP_URL
//
// The addresses are host:port of a regression and a study server (h2c); HTTP_URL is a
// regression service's HTTP/JSON port (serve --http-port). It prints one JSON line per step.
'use strict';
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const protos = path.resolve(__dirname, '../../protos');
const includeDirs = [path.join(protos, 'third_party'), protos];
const options = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true, includeDirs };
const regressionProto = grpc.loadPackageDefinition(
  protoLoader.loadSync('resilience/regression/v1/regression.proto', options)).resilience.regression.v1;
const studyProto = grpc.loadPackageDefinition(
  protoLoader.loadSync('resilience/study/v1/study.proto', options)).resilience.study.v1;

// The rich error model, to read the field violations of a rejected request.
const errors = new protobuf.Root();
errors.resolvePath = (_, target) => includeDirs.map(d => path.join(d, target)).find(f => require('node:fs').existsSync(f)) || target;
errors.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
const Status = errors.lookupType('google.rpc.Status');
const BadRequest = errors.lookupType('google.rpc.BadRequest');

function fieldViolations(error) {
  const [bin] = error.metadata.get('grpc-status-details-bin');
  if (!bin) return [];
  return Status.decode(bin).details
    .filter(d => d.type_url === 'type.googleapis.com/google.rpc.BadRequest')
    .flatMap(d => BadRequest.decode(d.value).fieldViolations.map(v => v.field));
}

const fitRequest = () => ({
  dependent: 'y',
  regressors: ['a'],
  covarianceType: 'COVARIANCE_TYPE_HC1',
  columns: [
    { name: 'y', values: [1, 3, 2, 5, 4, 6, 8, 7] },
    { name: 'a', values: [1, 2, 3, 4, 5, 6, 7, 9] },
  ],
});

const deadline = seconds => new Date(Date.now() + seconds * 1000);
const call = (client, method, request) =>
  new Promise((resolve, reject) =>
    client[method](request, { deadline: deadline(60) }, (err, res) => (err ? reject(err) : resolve(res))));

async function main() {
  const [regressionAddress, studyAddress, httpUrl] = process.argv.slice(2);
  const insecure = grpc.credentials.createInsecure();

  // 1. A fit.
  const regression = new regressionProto.RegressionService(regressionAddress, insecure);
  const fit = await call(regression, 'Fit', fitRequest());
  console.log(JSON.stringify({ step: 'fit', estimate: fit.coefficients[0].estimate, std_error: fit.coefficients[0].stdError }));

  // 2. A bad request: INVALID_ARGUMENT, and the field at fault from the details.
  try {
    await call(regression, 'Fit', { ...fitRequest(), covarianceType: 'COVARIANCE_TYPE_UNSPECIFIED' });
    console.log(JSON.stringify({ step: 'bad', error: null }));
  } catch (e) {
    console.log(JSON.stringify({ step: 'bad', code: grpc.status[e.code], fields: fieldViolations(e) }));
  }
  regression.close();

  // 3. A whole study, reading the progress stream.
  const study = new studyProto.StudyService(studyAddress, insecure);
  const stream = study.RunStudy(
    { dataset: 'sample', spec: { bootstrap: { replications: 0 }, multiverse: { disabled: true } } },
    { deadline: deadline(300) });
  let progress = 0;
  let report = null;
  for await (const event of stream) {
    if (event.progress) progress++;
    else report = event.report;
  }
  study.close();
  const main = report.tables.find(t => t.models.length > 0);
  console.log(JSON.stringify({
    step: 'study', progress, tables: report.tables.length, first_table: main.id,
    first_estimate: main.models[0].fit.coefficients[0].estimate,
  }));

  // 4. The same fit over HTTP/JSON, with Node's fetch.
  const response = await fetch(new URL('/v1/regression:fit', httpUrl), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fitRequest()),
  });
  const answer = await response.json();
  console.log(JSON.stringify({ step: 'http', estimate: answer.coefficients[0].estimate }));
}

main().catch(e => { console.error(e.message); process.exit(1); });
