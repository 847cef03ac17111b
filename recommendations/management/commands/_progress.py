"""A tqdm progress callback for the services' `on_progress(stage, done, total)`."""
from tqdm import tqdm


class TqdmProgress:
    def __init__(self, stream) -> None:
        self.stream = stream
        self.bars: dict[str, tqdm] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=stage, file=self.stream, leave=True)
        bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
