// The console's only way to the server: the public GraphQL API over
// HTTP, and its subscriptions over the graphql-transport-ws protocol.
// The token lives in session storage, never in a URL.

const KEY = 'aftersales.token';

export const session = {
  token: () => sessionStorage.getItem(KEY),
  signIn: (token) => sessionStorage.setItem(KEY, token.trim()),
  signOut: () => sessionStorage.removeItem(KEY),
};

/** A GraphQL answer with errors: each keeps the server's code. */
export class GraphQLError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join('; '));
    this.errors = errors;
    this.code = errors[0]?.extensions?.code ?? 'ERROR';
  }
}

/** Runs a query or mutation; resolves to `data`, rejects with GraphQLError. */
export async function gql(query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      // Behind a gateway that names the caller in its own headers there
      // is no token: none is sent.
      ...(session.token() ? { authorization: `Bearer ${session.token()}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch (e) {
    throw new GraphQLError([{ message: `HTTP ${response.status}`, extensions: { code: 'HTTP' } }]);
  }
  if (body.errors?.length) throw new GraphQLError(body.errors);
  return body.data;
}

/**
 * Follows a subscription; `onData` gets each event's `data`. Returns a
 * function that ends it. Reconnects after a dropped connection.
 */
export function subscribe(query, variables, onData, onError = () => {}) {
  let socket;
  let ended = false;
  const open = () => {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}/graphql/ws`, 'graphql-transport-ws');
    socket.onopen = () =>
      socket.send(
        JSON.stringify({ type: 'connection_init', payload: session.token() ? { Authorization: `Bearer ${session.token()}` } : {} }),
      );
    socket.onmessage = (m) => {
      const message = JSON.parse(m.data);
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
      } else if (message.type === 'next') {
        if (message.payload?.errors) onError(new GraphQLError(message.payload.errors));
        else onData(message.payload.data);
      } else if (message.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong' }));
      } else if (message.type === 'error') {
        onError(new GraphQLError(message.payload));
      }
    };
    socket.onclose = (e) => {
      if (ended) return;
      if (e.code === 4403) {
        onError(new GraphQLError([{ message: 'signed out', extensions: { code: 'UNAUTHENTICATED' } }]));
        return;
      }
      setTimeout(open, 2000);
    };
  };
  open();
  return () => {
    ended = true;
    socket?.close();
  };
}
