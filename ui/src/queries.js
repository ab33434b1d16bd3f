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
    id uuid name experiment state params tags codeVersion startedAt endedAt
    metrics { key value step }
    execution { nodeId inputs { role artifact { nodeId kind name version status } }
                outputs { role artifact { nodeId kind name version status } } } } }`;

export const HISTORY = `query($id: String!, $key: String!) {
  run(id: $id) { history(key: $key, maxPoints: 2000) { key steps values downsampled total } } }`;

export const RUNS = `query($experiment: [String!], $first: Int!) {
  runs(experiment: $experiment, first: $first) {
    nodes { id uuid name experiment state startedAt metrics { key value } } } }`;

export const MODEL = `query($name: String!) {
  model(name: $name) {
    name description tags latestVersion aliases gate
    pushes(first: 100) { id alias action version previousVersion outcome reasons actor createdAt }
    versions(first: 50) {
      version createdAt aliases metrics runId description
      artifact { nodeId status }
      trainingData(first: 20) { status artifact { nodeId name version } dataGate { reasons updatedAt } }
      blessing { blessed baselineVersion gateRevision checks createdAt } } } }`;
