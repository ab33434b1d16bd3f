// The GraphQL documents the explorer sends (one place to see what the UI reads).

export const SEARCH = `query($text: String!, $kinds: [String!]) {
  search(text: $text, kinds: $kinds, first: 50) { nodeId kind name version detail } }`;

export const HOME = `{
  models(first: 20) { nodes { name latestVersion aliases updatedAt } }
  runs(first: 15) { nodes { id uuid name experiment state startedAt } } }`;

export const LINEAGE = `query($node: String!, $direction: Direction!, $depth: Int!) {
  lineage(nodeId: $node, direction: $direction, depth: $depth) {
    root truncated
    nodes { id type kind name version state status }
    edges { source target type } } }`;

const ARTIFACT_FIELDS = `id nodeId kind name version uri fingerprint properties state createdAt status`;

export const ARTIFACT = `query($id: Int!) {
  artifact(id: $id) {
    ${ARTIFACT_FIELDS}
    dataGate { status reasons statisticsId anomaliesId schemaId updatedAt statistics }
    producers { id nodeId kind name state }
    consumers { id nodeId kind name state } } }`;

export const VERSIONS = `query($name: String!) {
  artifacts(name: $name, first: 50) { nodes { id nodeId version createdAt status fingerprint } } }`;

export const EXECUTION = `query($id: Int!) {
  execution(id: $id) {
    id nodeId kind name state params properties codeVersion environment startedAt endedAt
    inputs { role artifact { nodeId kind name version } }
    outputs { role artifact { nodeId kind name version } }
    contexts { kind name } } }`;

export const RUN = `query($id: String!) {
  run(id: $id) {
    id uuid name experiment state params tags codeVersion environment startedAt endedAt
    deletedAt killed
    metrics { key value step }
    execution { nodeId inputs { role artifact { nodeId kind name version status } }
                outputs { role artifact { nodeId kind name version status } } } } }`;

// Metric curves of several runs and keys in ONE request: run r's key k is `r{r}.h{k}`. At most
// 20 runs a document (the server's root-field limit); callers split larger comparisons.
export const MAX_RUNS_PER_HISTORY = 20;
export function histories(runCount, keyCount) {
  const vars = [];
  const roots = [];
  for (let k = 0; k < keyCount; k++) vars.push(`$k${k}: String!`);
  for (let r = 0; r < runCount; r++) {
    vars.push(`$r${r}: String!`);
    const fields = [];
    for (let k = 0; k < keyCount; k++)
      fields.push(`h${k}: history(key: $k${k}, maxPoints: 2000) { key steps values downsampled total }`);
    roots.push(`r${r}: run(id: $r${r}) { ${fields.join(" ")} }`);
  }
  return `query(${vars.join(", ")}) { ${roots.join(" ")} }`;
}

// Several runs' params and latest metrics in ONE request: run i is `r{i}` (at most 20, the
// server's root-field limit, as above).
export function runsByIds(count) {
  const vars = [];
  const roots = [];
  for (let r = 0; r < count; r++) {
    vars.push(`$r${r}: String!`);
    roots.push(`r${r}: run(id: $r${r}) { id uuid name params metrics { key value } }`);
  }
  return `query(${vars.join(", ")}) { ${roots.join(" ")} }`;
}

export const RUNS = `query($experiment: [String!], $first: Int!) {
  runs(experiment: $experiment, first: $first) {
    nodes { id uuid name experiment state startedAt metrics { key value } } } }`;

export const MODEL = `query($name: String!) {
  model(name: $name) {
    name description tags latestVersion aliases gate { revision config updatedAt }
    pushes(first: 100) { id alias action version previousVersion outcome reasons actor createdAt }
    versions(first: 50) {
      version createdAt aliases metrics runId description
      artifact { nodeId status }
      trainingData(first: 20) { status artifact { nodeId name version } dataGate { reasons updatedAt } }
      blessing { blessed baselineVersion gateRevision checks createdAt } } } }`;
