import { describe, expect, it } from 'vitest';
import { isLoopbackHost, isLoopbackUrl, portOf } from '../../src/addresses.js';

describe('addresses', () => {
  it('knows the loopback hosts in every spelling a URL or --host uses', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', '::1'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['example.com', '10.0.0.1', '0.0.0.0', 'localhost.example.com', '127.0.0.1.nip.io'])
      expect(isLoopbackHost(host), host).toBe(false);
  });
  it('judges URLs by their host, and a non-URL as not loopback', () => {
    expect(isLoopbackUrl('http://[::1]:8000/mcp')).toBe(true);
    expect(isLoopbackUrl(new URL('https://localhost/mcp'))).toBe(true);
    expect(isLoopbackUrl('https://mcp.example.com/mcp')).toBe(false);
    expect(isLoopbackUrl('localhost:8000')).toBe(false);
  });
  it('gives the explicit port, else the scheme default', () => {
    expect(portOf('http://localhost:8000/mcp')).toBe(8000);
    expect(portOf('http://localhost/mcp')).toBe(80);
    expect(portOf(new URL('https://mcp.example.com/mcp'))).toBe(443);
  });
});
