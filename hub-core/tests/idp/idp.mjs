// A real, independent OIDC provider on loopback for the identity tests.
// Prints one JSON line {"issuer": ...} on stdout once it listens; IDP_RESOURCE is the hub
// audience it issues client-credentials JWT access tokens for.
import http from 'node:http';
import Provider from 'oidc-provider';

const resource = process.env.IDP_RESOURCE;
const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'hub-test',
      client_secret: 'hub-test-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'hub:read',
    }],
    scopes: ['hub:read'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, indicator) => ({
          audience: indicator,
          scope: 'hub:read',
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
        }),
      },
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(JSON.stringify({ issuer }) + '\n');
});
