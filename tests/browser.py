"""Headless Chromium for the tests (Debian's ``chromium`` and ``chromium-driver``, which
scripts/test.sh installs), driven through selenium, with the network switched off."""

import io
import shutil

import pytest
from conftest import import_or_skip, required


def chromium(width: int = 1280, height: int = 800):
    """A headless Chromium whose network is off and whose console is logged; the test is
    skipped where it is not installed, and fails there in a run that requires ``chromium``."""
    browser, driver = shutil.which('chromium'), shutil.which('chromedriver')
    if not (browser and driver):
        message = (
            'Debian\'s chromium and chromium-driver are not installed '
            '(apt-get install chromium chromium-driver; scripts/test.sh installs them)'
        )
        if required('chromium'):
            pytest.fail(message)
        pytest.skip(message)
    webdriver = import_or_skip('selenium.webdriver', 'chromium')
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ('--headless=new', '--no-sandbox', '--disable-gpu', f'--window-size={width},{height}'):
        options.add_argument(argument)
    options.add_argument('--force-device-scale-factor=1')
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    session = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))
    session.execute_cdp_cmd('Network.enable', {})
    session.execute_cdp_cmd(
        'Network.emulateNetworkConditions',
        dict(offline=True, latency=0, downloadThroughput=0, uploadThroughput=0),
    )
    return session


def screenshot(session):
    """The window as an RGB PIL image."""
    from PIL import Image

    return Image.open(io.BytesIO(session.get_screenshot_as_png())).convert('RGB')


def rgb(colour: str) -> tuple:
    """``'#7f3b08'`` -> ``(127, 59, 8)``."""
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
