// Starts GraphiQL against this server. Every file it loads is served by
// the server itself: nothing is fetched from another host.
//
// The API wants a token on every request, the schema's introspection
// included: put {"Authorization": "Bearer <token>"} in the Headers tab,
// then press "Re-fetch GraphQL schema" (or reload: the headers are kept
// in this browser's local storage). Subscriptions send the same headers
// as the WebSocket's connection_init payload.
(function () {
  "use strict";
  var origin = window.location.origin;
  var wsOrigin = origin.replace(/^http/, "ws");
  // GraphiQL fetches the schema before its Headers tab is mounted: until
  // then, use the headers it kept from the last visit.
  function keptHeaders() {
    try {
      var kept = JSON.parse(window.localStorage.getItem("graphiql:headers") || "{}");
      return kept && typeof kept === "object" ? kept : {};
    } catch (e) {
      return {};
    }
  }
  function fetcher(params, options) {
    var given = options && options.headers;
    var headers = given && Object.keys(given).length ? given : keptHeaders();
    return GraphiQL.createFetcher({
      url: origin + "/graphql",
      subscriptionUrl: wsOrigin + "/graphql/ws",
      wsConnectionParams: headers,
      headers: headers,
    })(params, options);
  }
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      shouldPersistHeaders: true,
      defaultHeaders: '{"Authorization": "Bearer <token>"}',
      defaultEditorToolsVisibility: "headers",
    })
  );
})();
