"""A screenshot of a token-loss page (summary/compression_tokens_*.html), as in the docs.

    python scripts/page_screenshot.py PAGE.html OUT.png [--document 3] [--hover 120]

Opens the page in Debian's headless Chromium (``chromium``, ``chromium-driver``) through
selenium with the network off, shows ``--document`` (default: the page's first), moves the
mouse over character ``--hover`` so that its tooltip is in the picture, and saves the window.
"""

import argparse
import os
import shutil
import sys

from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('page')
    parser.add_argument('out')
    parser.add_argument('--document', type=int, help='document index to show')
    parser.add_argument('--hover', type=int, default=None, help='character to hover')
    parser.add_argument('--size', default='1280,720', help='window width,height (default 1280,720)')
    args = parser.parse_args()
    browser, driver = shutil.which('chromium'), shutil.which('chromedriver')
    if not (browser and driver):
        print('needs Debian\'s chromium and chromium-driver (apt-get install chromium chromium-driver)')
        return 1
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ('--headless=new', '--no-sandbox', '--disable-gpu', '--force-device-scale-factor=1'):
        options.add_argument(argument)
    options.add_argument(f'--window-size={args.size}')
    session = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))
    try:
        session.execute_cdp_cmd('Network.enable', {})
        session.execute_cdp_cmd(
            'Network.emulateNetworkConditions',
            dict(offline=True, latency=0, downloadThroughput=0, uploadThroughput=0),
        )
        url = 'file://' + os.path.abspath(args.page)
        session.get(url + (f'#doc-{args.document}' if args.document is not None else ''))
        if args.hover is not None:
            span = session.find_element('css selector', f'#text span[data-i="{args.hover}"]')
            ActionChains(session).move_to_element(span).perform()
        session.save_screenshot(args.out)
    finally:
        session.quit()
    print(f'Written: {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
