/** Networks allowed to send us out-of-dialog SIP requests (SIP_ALLOWED_SOURCES), as CIDRs or single addresses. */
import net from 'node:net';

export class AllowedSources {
  private readonly list = new net.BlockList();
  readonly entries: string[];

  constructor(cidrs: string[]) {
    this.entries = cidrs;
    for (const entry of cidrs) {
      const [address = '', prefixText] = entry.trim().split('/');
      const family = net.isIPv6(address) ? 'ipv6' : net.isIPv4(address) ? 'ipv4' : undefined;
      if (!family) throw new Error(`SIP_ALLOWED_SOURCES: not an IP address or CIDR: ${entry}`);
      if (prefixText === undefined) {
        this.list.addAddress(address, family);
        continue;
      }
      const prefix = Number(prefixText);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 'ipv4' ? 32 : 128)) {
        throw new Error(`SIP_ALLOWED_SOURCES: bad prefix length in ${entry}`);
      }
      this.list.addSubnet(address, prefix, family);
    }
  }

  has(address: string): boolean {
    const plain = address.replace(/^::ffff:/, '');
    const family = net.isIPv6(plain) ? 'ipv6' : 'ipv4';
    return this.list.check(plain, family);
  }
}
