#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Write tests/unit/sigv4_vectors.h: requests signed by the real client.

Two sources, both Debian's awscli (2.x, with its own botocore):
 - botocore's lambda client, clock fixed, each Invoke request caught just
   before it would be sent (what would go on the wire: method, path and
   query as sent, headers, body);
 - the aws command itself, 'aws lambda invoke --endpoint-url' against a
   socket here that records the raw request (its date is the real one;
   the vector's 'now' is that date).

Run with Debian's python3 from the top of the tree:
    /usr/bin/python3 tests/unit/sigv4_vectors.py > tests/unit/sigv4_vectors.h
It needs no network; the output is committed, so the unit test does not
need python or awscli.
"""
import base64
import datetime
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.parse

import awscli  # noqa: F401  (makes its bundled botocore 'botocore')
import botocore
import botocore.auth
import botocore.session

AKID = 'AKIDEXAMPLE'
SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
REGION = 'us-east-1'
WHEN = datetime.datetime(2026, 12, 7, 12, 0, 0)


class FixedClock(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return WHEN


class Caught(Exception):
    pass


def client(token=None):
    botocore.auth.datetime = type('m', (), {'datetime': FixedClock})
    s = botocore.session.get_session()
    return s.create_client('lambda', region_name=REGION,
                           endpoint_url='http://127.0.0.1:9001',
                           aws_access_key_id=AKID,
                           aws_secret_access_key=SECRET,
                           aws_session_token=token)


def catch(c, before_sign=None, **params):
    """The request botocore would send for Invoke(**params)."""
    got = {}

    # The signed request's headers, taken as the signer left them: the
    # prepared request that follows keeps one value of a repeated header.
    def signed(request, **kwargs):
        got['headers'] = list(request.headers.items())

    def send(request, **kwargs):
        got['r'] = request
        raise Caught()

    if before_sign:
        c.meta.events.register_first('before-sign.lambda.Invoke', before_sign)
    c.meta.events.register_last('request-created.lambda', signed)
    c.meta.events.register('before-send.lambda.Invoke', send)
    try:
        c.invoke(**params)
    except Caught:
        pass
    finally:
        c.meta.events.unregister('before-send.lambda.Invoke', send)
        c.meta.events.unregister('request-created.lambda', signed)
        if before_sign:
            c.meta.events.unregister('before-sign.lambda.Invoke',
                                     before_sign)
    r = got['r']
    url = urllib.parse.urlsplit(r.url)
    names = set(k.lower() for k, _ in got['headers'])
    headers = [(k, v.decode() if isinstance(v, bytes) else v)
               for k, v in got['headers'] + [
                   (k, v) for k, v in r.headers.items()
                   if k.lower() not in names]]
    headers.insert(0, ('Host', url.netloc))
    body = r.body or b''
    if isinstance(body, str):
        body = body.encode()
    return dict(method=r.method, path=url.path, query=url.query or None,
                headers=headers, body=body,
                now=int(WHEN.replace(tzinfo=datetime.timezone.utc)
                        .timestamp()))


def add_headers(pairs):
    def hook(request, **kwargs):
        for k, v in pairs:
            request.headers[k] = v   # HTTPHeaders: a second one is added
    return hook


def with_query(extra):
    def hook(request, **kwargs):
        request.url += ('&' if '?' in request.url else '?') + extra
    return hook


def botocore_vectors():
    c = client()
    v = []
    v.append(('plain', catch(c, FunctionName='my-function',
                             Payload=b'{"key":"value"}')))
    v.append(('qualified', catch(c, FunctionName='my-fn:prod',
                                 Qualifier='prod', Payload=b'{}')))
    v.append(('arn', catch(c, FunctionName='arn:aws:lambda:us-east-1:'
                           '123456789012:function:my-fn')))
    v.append(('empty_body', catch(c, FunctionName='my-function')))
    v.append(('non_ascii_body', catch(
        c, FunctionName='my-function',
        Payload='{"name":"Zoë ☃"}'.encode() + b'\xff\x00\x80\r\n')))
    v.append(('invoke_headers', catch(
        c, FunctionName='my-function', InvocationType='Event',
        LogType='Tail', Payload=b'[1,2]',
        ClientContext=base64.b64encode(b'{"custom":{"a":1}}').decode())))
    v.append(('spaces_and_duplicates', catch(
        c, add_headers([('X-Thaw-Spaces', '  a   b \t c  '),
                        ('X-Thaw-Dup', 'first'),
                        ('X-Thaw-Dup', ' second  value ')]),
        FunctionName='my-function', Payload=b'{}')))
    body = b'{"sha":1}'
    v.append(('content_sha256', catch(
        c, add_headers([('X-Amz-Content-SHA256',
                         hashlib.sha256(body).hexdigest())]),
        FunctionName='my-function', Payload=body)))
    v.append(('query_sorted', catch(
        c, with_query('Beta=2&Alpha=z&Alpha=a&sp=a%20b%2Bc'),
        FunctionName='my-fn:prod', Qualifier='prod', Payload=b'{}')))
    v.append(('session_token', catch(
        client('IQoJb3JpZ2luX2VjEXAMPLETOKEN//+='),
        FunctionName='my-function', Payload=b'{}')))
    return v


def record_cli(args, payload):
    """Run the aws command against a socket here; the raw request."""
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = {}

    def serve():
        c, _ = srv.accept()
        data = b''
        while b'\r\n\r\n' not in data:
            data += c.recv(65536)
        head, _, body = data.partition(b'\r\n\r\n')
        lines = head.decode('latin-1').split('\r\n')
        headers = [tuple(x.strip() for x in ln.split(':', 1))
                   for ln in lines[1:]]
        n = int(dict((k.lower(), v) for k, v in headers)
                .get('content-length', '0'))
        while len(body) < n:
            body += c.recv(65536)
        got['req'] = (lines[0], headers, body)
        c.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n'
                  b'Content-Length: 2\r\nX-Amz-Executed-Version: $LATEST\r\n'
                  b'Connection: close\r\n\r\n{}')
        c.close()

    t = threading.Thread(target=serve)
    t.start()
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, AWS_ACCESS_KEY_ID=AKID,
                   AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION=REGION,
                   AWS_CONFIG_FILE=os.devnull,
                   AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        env.pop('AWS_SESSION_TOKEN', None)
        env.pop('AWS_PROFILE', None)
        subprocess.run(['/usr/bin/aws', 'lambda', 'invoke',
                        '--endpoint-url', 'http://127.0.0.1:%d' % port,
                        '--cli-binary-format', 'raw-in-base64-out',
                        '--payload', payload] + args +
                       [os.path.join(d, 'out.json')],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    t.join()
    srv.close()
    line, headers, body = got['req']
    method, target, _ = line.split(' ')
    path, _, query = target.partition('?')
    date = dict((k.lower(), v) for k, v in headers)['x-amz-date']
    now = int(datetime.datetime.strptime(date, '%Y%m%dT%H%M%SZ')
              .replace(tzinfo=datetime.timezone.utc).timestamp())
    return dict(method=method, path=path, query=query or None,
                headers=headers, body=body, now=now)


def cli_vectors():
    return [('cli_plain', record_cli(['--function-name', 'my-function'],
                                     '{"hello":"world"}')),
            ('cli_qualified', record_cli(['--function-name', 'my-fn:prod',
                                          '--qualifier', 'prod'],
                                         '{"a":"é ü"}'))]


def c_string(b):
    if isinstance(b, str):
        b = b.encode()
    out = ''
    for ch in b:
        if ch in (0x22, 0x5c):
            out += '\\' + chr(ch)
        elif 0x20 <= ch < 0x7f and ch != 0x3f:
            out += chr(ch)
        else:
            out += '\\%03o' % ch
    return '"' + out + '"'


def main():
    vectors = botocore_vectors() + cli_vectors()
    w = sys.stdout.write
    w('/* SPDX-License-Identifier: GPL-2.0 */\n')
    w('/*\n * Generated by tests/unit/sigv4_vectors.py (Debian awscli %s,\n'
      ' * its botocore %s): requests signed by the real client with key\n'
      ' * %s.  Do not edit.\n */\n' % (awscli.__version__,
                                     botocore.__version__, AKID))
    w('#define SIGV4_VECTOR_AKID\t%s\n' % c_string(AKID))
    w('#define SIGV4_VECTOR_SECRET\t%s\n\n' % c_string(SECRET))
    w('#define SIGV4_VECTOR_MAX_HEADERS\t16\n\n')
    w('struct sigv4_vector {\n\tconst char *name;\n\tconst char *method;\n'
      '\tconst char *raw_path;\n\tconst char *raw_query;\n'
      '\tstruct sigv4_header headers[SIGV4_VECTOR_MAX_HEADERS];\n'
      '\tsize_t n_headers;\n\tconst char *body;\n\tsize_t body_len;\n'
      '\ttime_t now;\n};\n\n')
    w('static const struct sigv4_vector sigv4_vectors[] = {\n')
    for name, v in vectors:
        assert len(v['headers']) <= 16
        w('\t{\n\t\t.name = %s,\n' % c_string(name))
        w('\t\t.method = %s,\n' % c_string(v['method']))
        w('\t\t.raw_path = %s,\n' % c_string(v['path']))
        w('\t\t.raw_query = %s,\n' %
          (c_string(v['query']) if v['query'] is not None else 'NULL'))
        w('\t\t.headers = {\n')
        for k, val in v['headers']:
            w('\t\t\t{ %s,\n\t\t\t  %s },\n' % (c_string(k), c_string(val)))
        w('\t\t},\n\t\t.n_headers = %d,\n' % len(v['headers']))
        w('\t\t.body = %s,\n' % c_string(v['body']))
        w('\t\t.body_len = %d,\n' % len(v['body']))
        w('\t\t.now = %d,\n\t},\n' % v['now'])
    w('};\n')


if __name__ == '__main__':
    main()
