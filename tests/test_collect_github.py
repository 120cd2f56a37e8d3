"""collect/github.py: the paper's GitHub search against a server on 127.0.0.1 replaying GraphQL
search pages and rate-limit answers recorded by others (tests/data/collect/README.md), and
partial clones of git repositories served by file:// that date every file as full clones do."""

import argparse
import json
import os
import shutil
import subprocess

import pytest
from conftest import real_documents
from loopback_server import Answer, LoopbackServer, replayed

from opencompass_llmcompression.collect import github
from opencompass_llmcompression.collect.collection import Collection
from opencompass_llmcompression.collect.http import Client, CollectError
from opencompass_llmcompression.corpus.git_sources import first_commit_dates

DATA = os.path.join(os.path.dirname(__file__), 'data', 'collect')
GRAPHQL = '/graphql'


def page(n: int) -> bytes:
    with open(os.path.join(DATA, f'github-search-page{n}.json'), 'rb') as f:
        return f.read()


def json_answer(body: bytes, **headers) -> Answer:
    return Answer(200, {'Content-Type': 'application/json; charset=utf-8', **headers}, body)


# The two recorded pages, by hand: (nameWithOwner, stars) in the order GitHub gave them.
PAGE1 = [
    ('CyC2018/CS-Notes', 100432),
    ('Snailclimb/JavaGuide', 78123),
    ('iluwatar/java-design-patterns', 57598),
    ('MisterBooo/LeetCodeAnimation', 53708),
    ('elastic/elasticsearch', 48730),
    ('spring-projects/spring-boot', 47543),
    ('kdn251/interviews', 43824),
    ('doocs/advanced-java', 43275),
    ('ReactiveX/RxJava', 42594),
    ('google/guava', 37162),
]
PAGE2 = [
    ('square/okhttp', 36961),
    ('spring-projects/spring-framework', 36862),
    ('square/retrofit', 35549),
    ('macrozheng/mall', 34174),
    ('apache/dubbo', 32196),
    ('PhilJay/MPAndroidChart', 30606),
    ('bumptech/glide', 28972),
    ('airbnb/lottie-android', 28724),
    ('Blankj/AndroidUtilCode', 26938),
    ('proxyee-down-org/proxyee-down', 25615),
]


class Sleeps(list):
    def __init__(self):
        super().__init__()
        self.now = 1_700_000_000.0

    def __call__(self, seconds):
        self.append(seconds)
        self.now += seconds

    def clock(self):
        return self.now


class Spy(Client):
    """A client that keeps the JSON bodies it posts (the loopback server logs no bodies)."""

    def __init__(self, *args, **kwargs):
        sleeps = kwargs.pop('sleep', Sleeps())
        super().__init__(*args, sleep=sleeps, clock=sleeps.clock, **kwargs)
        self.sleeps, self.sent = sleeps, []

    def post(self, url, **kwargs):
        self.sent.append(kwargs.get('json'))
        return super().post(url, **kwargs)


@pytest.fixture
def server():
    with LoopbackServer() as s:
        yield s


def search(server, client, **kwargs):
    options = dict(language='java', created_after='2000-01-01', min_stars=10, count=15)
    options.update(kwargs)
    return github.search_repositories(client, server.url(GRAPHQL), **options)


def test_the_papers_query_and_the_endpoint():
    assert github.search_query('python', '2023-09-01', 10, None, forks=False) == (
        'language:python fork:false created:>2023-09-01 stars:>=10 sort:stars'
    )
    assert github.search_query('python', '2023-09-01', 10, 500, forks=True) == (
        'language:python fork:true created:>2023-09-01 stars:10..500 sort:stars'
    )
    assert github.graphql_url('https://api.github.com') == 'https://api.github.com/graphql'
    assert github.graphql_url('https://ghe.example.com/api/v3/') == 'https://ghe.example.com/api/graphql'


def test_two_recorded_pages_followed_by_their_cursor(server):
    server.script(GRAPHQL, json_answer(page(1)), json_answer(page(2)))
    client = Spy(server.url())
    found = search(server, client, count=15, min_stars=30000)
    # by hand: the 10 of page 1, then page 2's six with 30000 stars or more, the first five kept
    expected = PAGE1 + PAGE2[:5]
    assert [(r['nameWithOwner'], r['stars']) for r in found] == expected
    assert found[0] == {
        'url': 'https://github.com/CyC2018/CS-Notes',
        'nameWithOwner': 'CyC2018/CS-Notes',
        'createdAt': '2018-02-13T14:56:24Z',
        'pushedAt': None,  # not asked in that recording
        'licence': None,
        'stars': 100432,
    }
    variables = [body['variables'] for body in client.sent]
    assert [v['after'] for v in variables] == [None, 'Y3Vyc29yOjEw']
    assert variables[0]['q'] == 'language:java fork:false created:>2000-01-01 stars:>=30000 sort:stars'
    assert variables[0]['first'] == 100


def with_page_info(body: bytes, total: int, has_next: bool) -> bytes:
    """A recorded page with the fields that recording did not ask for (``repositoryCount``,
    ``hasNextPage``) added, values chosen by the test."""
    data = json.loads(body)
    data['data']['search']['repositoryCount'] = total
    data['data']['search']['pageInfo']['hasNextPage'] = has_next
    return json.dumps(data).encode()


def test_star_ranges_walked_down_when_a_search_window_ends(server):
    # a window that ends after page 1 while 4000 match: the next range starts at its fewest stars
    server.script(
        GRAPHQL,
        json_answer(with_page_info(page(1), 4000, False)),
        json_answer(with_page_info(page(2), 3990, False)),
    )
    client = Spy(server.url())
    found = search(server, client, count=100, min_stars=26000)
    queries = [body['variables']['q'] for body in client.sent]
    assert [q.split()[3] for q in queries] == ['stars:>=26000', 'stars:26000..37162']
    assert [(r['nameWithOwner'], r['stars']) for r in found] == PAGE1 + PAGE2[:9]
    # the second window ended too (10 seen of 3990): a third range would start at 25615 < 26000


def test_a_githubs_rate_limit_answers_are_waited_out_through_the_client(server):
    limited = [a for a in replayed(os.path.join(DATA, 'github-rate-limit.txt')) if a.status == 403]
    abuse = [a for a in replayed(os.path.join(DATA, 'github-abuse-limit.txt')) if a.status == 403]
    limited[0].headers['X-RateLimit-Reset'] = str(1_700_000_000 + 120)  # the 2013 answer had none
    server.script(GRAPHQL, *limited, *abuse, json_answer(page(1)))
    client = Spy(server.url())
    found = search(server, client, count=3)
    assert [r['nameWithOwner'] for r in found] == [name for name, _ in PAGE1[:3]]
    assert client.sleeps == [121.0, 60.0]  # until the reset (+1 s), then the abuse answer's Retry-After


def test_a_graphql_rate_limited_error_waits_for_the_reset(server):
    body = json.dumps(
        {'errors': [{'type': 'RATE_LIMITED', 'message': 'API rate limit exceeded for user ID 1.'}]}
    ).encode()
    server.script(
        GRAPHQL,
        json_answer(body, **{'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': str(1_700_000_000 + 30)}),
        json_answer(page(1)),
    )
    client = Spy(server.url())
    assert len(search(server, client, count=2)) == 2
    assert client.sleeps == [31.0]


def test_other_graphql_errors_are_refused_with_githubs_words(server):
    body = json.dumps({'data': None, 'errors': [{'message': 'Field "stars" doesn\'t exist on type "Query"'}]})
    server.script(GRAPHQL, json_answer(body.encode()))
    with pytest.raises(CollectError, match="GitHub refused the search: Field \"stars\" doesn't exist"):
        search(server, Spy(server.url()))


def test_private_disabled_and_locked_results_are_left_out():
    assert github.repository_record({'url': 'u', 'stargazerCount': 5, 'isPrivate': True}) is None
    assert github.repository_record({'url': 'u', 'stargazerCount': 5, 'isLocked': True}) is None
    assert github.repository_record({'url': 'u'}) is None  # no star count: cannot be ranked
    kept = github.repository_record(
        {
            'url': 'https://github.com/a/b',
            'stargazerCount': 5,
            'licenseInfo': {'spdxId': 'MIT', 'name': 'MIT License'},
        }
    )
    assert kept['licence'] == 'MIT' and kept['nameWithOwner'] == 'a/b'


# ---- the kind: token, clones, a second run ------------------------------------------------


def git(*args, cwd=None, env=None):
    return subprocess.run(['git', *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def commit(work, message, day):
    env = dict(
        os.environ, GIT_AUTHOR_DATE=f'{day}T12:00:00+00:00', GIT_COMMITTER_DATE=f'{day}T12:00:00+00:00'
    )
    env.update(GIT_AUTHOR_NAME='a', GIT_AUTHOR_EMAIL='a@example.org', GIT_COMMITTER_NAME='a')
    env['GIT_COMMITTER_EMAIL'] = 'a@example.org'
    git('add', '-A', cwd=work, env=env)
    git('commit', '-q', '-m', message, cwd=work, env=env)


def make_repository(root, name, texts):
    """A bare repository ``root/OWNER/NAME`` served as GitHub serves partial clones, with a
    history: two files on 2026-01-10, on 2026-02-05 one renamed and changed (a rename git finds
    by comparing contents) and a third added."""
    work = os.path.join(root, '_work', name)
    os.makedirs(work)
    git('init', '-q', '-b', 'main', work)
    with open(os.path.join(work, 'first.py'), 'w') as f:
        f.write(texts[0])
    with open(os.path.join(work, 'second.py'), 'w') as f:
        f.write(texts[1])
    commit(work, 'first', '2026-01-10')
    os.rename(os.path.join(work, 'second.py'), os.path.join(work, 'moved.py'))
    with open(os.path.join(work, 'moved.py'), 'a') as f:
        f.write('\n# changed while moved\n')
    with open(os.path.join(work, 'third.py'), 'w') as f:
        f.write(texts[2])
    commit(work, 'second', '2026-02-05')
    bare = os.path.join(root, *name.split('/')) + '.git'
    git('clone', '-q', '--bare', work, bare)
    git('config', 'uploadpack.allowFilter', 'true', cwd=bare)
    git('config', 'uploadpack.allowAnySHA1InWant', 'true', cwd=bare)
    return bare


def code_args(server, git_root, **extra):
    args = argparse.Namespace(
        language='java',
        created_after='2000-01-01',
        min_stars=10,
        repositories=3,
        forks=False,
        github_api_url=server.url(),
        git_url='file://' + git_root,
        jobs=2,
    )
    for key, value in extra.items():
        setattr(args, key, value)
    return args


@pytest.fixture
def repositories(tmp_path):
    root = str(tmp_path / 'git')
    texts = real_documents('python', 9, 3000)
    for i, (name, _) in enumerate(PAGE1[:3]):
        make_repository(root, name, texts[3 * i : 3 * i + 3])
    return root


def test_without_a_token_nothing_is_fetched_or_written(server, tmp_path, monkeypatch, repositories):
    monkeypatch.delenv('GITHUB_TOKEN', raising=False)
    out = tmp_path / 'code'
    with pytest.raises(CollectError, match='GITHUB_TOKEN is not set.*github.com/settings/tokens'):
        github.collect(code_args(server, repositories), str(out))
    assert server.log == [] and not out.exists()


def test_the_token_is_sent_and_a_refused_one_is_named(server, tmp_path, monkeypatch, repositories):
    monkeypatch.setenv('GITHUB_TOKEN', 'ghp_not_a_real_one')
    bad = replayed(os.path.join(DATA, 'github-bad-credentials.txt'))
    server.script(GRAPHQL, *bad)
    with pytest.raises(CollectError, match='HTTP 401.*GITHUB_TOKEN'):
        github.collect(code_args(server, repositories), str(tmp_path / 'code'))
    assert server.log[0][2]['Authorization'] == 'bearer ghp_not_a_real_one'


def test_search_clone_and_a_second_run_that_fetches_nothing(server, tmp_path, monkeypatch, repositories):
    monkeypatch.setenv('GITHUB_TOKEN', 'ghp_not_a_real_one')
    server.script(GRAPHQL, json_answer(page(1)))
    out = str(tmp_path / 'code')
    collection = github.collect(code_args(server, repositories), out)

    names = [name for name, _ in PAGE1[:3]]
    with open(os.path.join(out, 'repositories.json')) as f:
        listing = json.load(f)
    assert [r['nameWithOwner'] for r in listing['repositories']] == names
    items = {item['meta']['nameWithOwner']: item for item in collection.items}
    assert sorted(items) == sorted(names)
    item = items['CyC2018/CS-Notes']
    assert item['url'] == f'file://{repositories}/CyC2018/CS-Notes'
    assert item['path'] == 'repos/CyC2018/CS-Notes'
    assert item['meta']['stars'] == 100432 and item['meta']['createdAt'] == '2018-02-13T14:56:24Z'
    for name in names:
        clone = os.path.join(out, 'repos', *name.split('/'))
        source = os.path.join(repositories, *name.split('/')) + '.git'
        assert git('rev-parse', '--is-shallow-repository', cwd=clone).strip() == 'false'
        assert git('config', 'remote.origin.promisor', cwd=clone).strip() == 'true'  # a partial clone
        assert items[name]['meta']['commit'] == git('rev-parse', 'HEAD', cwd=source).strip()
        # by hand: of the blobs a rename may pair (second.py's, moved.py's, third.py's), the
        # clone lacked second.py's only: deleted before HEAD
        assert items[name]['meta']['rename_blobs'] == 1
        listing_digest = subprocess.run(
            ['git', 'ls-tree', '-r', '-z', '--full-tree', 'HEAD'], cwd=source, capture_output=True, check=True
        ).stdout
        import hashlib

        assert items[name]['sha256'] == hashlib.sha256(listing_digest).hexdigest()

    # the sources gone (offline): the dating the builder runs still works, from the clone alone
    full = {name: first_commit_dates(os.path.join(repositories, *name.split('/')) + '.git') for name in names}
    shutil.move(repositories, str(tmp_path / 'offline'))
    for name in names:
        clone = os.path.join(out, 'repos', *name.split('/'))
        dates = first_commit_dates(clone)
        assert dates == {k: v for k, v in full[name].items()}
        assert str(dates['moved.py']) == '2026-01-10'  # followed through the rename: first added then
        assert str(dates['third.py']) == '2026-02-05'

    # a second run: no request, no clone (the sources are gone, so a clone would fail)
    requests_before = len(server.log)
    again = github.collect(code_args(server, repositories), out)
    assert len(server.log) == requests_before
    assert [i['sha256'] for i in again.items] == [i['sha256'] for i in collection.items]


def test_a_clone_that_fails_leaves_nothing_half_there_and_the_rest_is_kept(
    server, tmp_path, monkeypatch, repositories
):
    monkeypatch.setenv('GITHUB_TOKEN', 'ghp_not_a_real_one')
    shutil.rmtree(os.path.join(repositories, 'Snailclimb'))  # deleted since the search
    server.script(GRAPHQL, json_answer(page(1)))
    out = str(tmp_path / 'code')
    collection = github.collect(code_args(server, repositories), out)
    assert sorted(i['meta']['nameWithOwner'] for i in collection.items) == [
        'CyC2018/CS-Notes',
        'iluwatar/java-design-patterns',
    ]
    assert os.listdir(os.path.join(out, 'repos', 'Snailclimb')) == []


def test_another_query_in_the_same_folder_is_refused(server, tmp_path, monkeypatch, repositories):
    monkeypatch.setenv('GITHUB_TOKEN', 'ghp_not_a_real_one')
    server.script(GRAPHQL, json_answer(page(1)))
    out = str(tmp_path / 'code')
    github.collect(code_args(server, repositories), out)
    with pytest.raises(CollectError, match='holds a collection of code'):
        github.collect(code_args(server, repositories, min_stars=50), out)
    assert Collection.open(out, 'code', github.query_of(code_args(server, repositories))).items
