import threading
from readmodel.store import ReadModel

def test_race(database_url):
    stores = [ReadModel(database_url) for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    errors = []
    def go(s):
        barrier.wait()
        try:
            s.create_schema()
        except Exception as e:
            errors.append(repr(e)[:300])
    ts = [threading.Thread(target=go, args=(s,)) for s in stores]
    [t.start() for t in ts]; [t.join() for t in ts]
    for s in stores: s.dispose()
    assert not errors, errors
