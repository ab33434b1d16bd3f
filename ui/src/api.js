// GraphQL over fetch, with the token and project the person gave (kept in localStorage), and
// errors a person can read: unreachable server, missing/refused token, GraphQL errors.

const TOKEN = "mlledger.token";
const PROJECT = "mlledger.project";

export class ApiError extends Error {
  constructor(message, { auth = false, unreachable = false } = {}) {
    super(message);
    this.auth = auth;
    this.unreachable = unreachable;
  }
}

export const connection = {
  get token() {
    return localStorage.getItem(TOKEN) || "";
  },
  get project() {
    return localStorage.getItem(PROJECT) || "";
  },
  save(token, project) {
    token ? localStorage.setItem(TOKEN, token) : localStorage.removeItem(TOKEN);
    project ? localStorage.setItem(PROJECT, project) : localStorage.removeItem(PROJECT);
  },
};

export async function gql(query, variables = {}) {
  const headers = { "Content-Type": "application/json" };
  if (connection.token) headers.Authorization = `Bearer ${connection.token}`;
  if (connection.project) headers["X-Mlledger-Project"] = connection.project;
  let response;
  try {
    response = await fetch(new URL("../graphql", document.baseURI), {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new ApiError(
      `Cannot reach the mlledger server at ${location.origin} (${err.message}). ` +
        "Is `mlledger serve` running?",
      { unreachable: true },
    );
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    /* a proxy's HTML error page */
  }
  if (response.status === 401 || response.status === 403) {
    const why = body?.error?.message || response.statusText;
    throw new ApiError(`The server refused the request: ${why}`, { auth: true });
  }
  if (!response.ok && !body?.data) {
    const why = body?.error?.message || body?.errors?.[0]?.message || response.statusText;
    throw new ApiError(`The server answered ${response.status}: ${why}`, {
      unreachable: response.status >= 500,
    });
  }
  if (body?.errors?.length) {
    const auth = body.errors.some((e) => e.extensions?.code === "unauthenticated");
    throw new ApiError(body.errors.map((e) => e.message).join("; "), { auth });
  }
  return body.data;
}
