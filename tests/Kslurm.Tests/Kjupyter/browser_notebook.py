"""What a person does in the classic Notebook's web page, in headless Chromium (selenium).

usage: browser_notebook.py URL KERNEL_DISPLAY_NAME CODE SCREENSHOT

Opens URL (the one kjupyter printed, token included), waits for the file tree, picks
New > KERNEL_DISPLAY_NAME, types CODE into the first cell, runs it with Shift+Enter, and waits
for its output. Prints one JSON line: the kernel name the page shows and the cell's output as
the page shows it. Saves a screenshot of the notebook page either way.
"""
import json
import signal
import socket
import sys
import time
from urllib.parse import urlparse

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

url, kernel, code, shot = sys.argv[1:5]
signal.alarm(180)  # the test's budget: never hang CI


def wait_for_port(host, port, seconds):
    """The tunnel's local end: ssh opens it once logged in."""
    end = time.time() + seconds
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            if time.time() > end:
                raise
            time.sleep(0.2)


u = urlparse(url)
wait_for_port(u.hostname, u.port, 60)



def chromium(sandbox):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--window-size=1280,800", "--no-first-run", "--user-data-dir=" + shot + ".profile"):
        options.add_argument(arg)
    if not sandbox:
        options.add_argument("--no-sandbox")
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


# Chromium's sandbox needs user namespaces, which some CI containers forbid: then (still as the
# unprivileged test user) without it, and say so
try:
    driver = chromium(sandbox=True)
except WebDriverException as e:
    print("browser_notebook: note: Chromium's sandbox is not available here; running without it: " + e.msg.splitlines()[0], file=sys.stderr)
    driver = chromium(sandbox=False)
result = {}
try:
    driver.set_page_load_timeout(60)
    driver.get(url)
    wait = WebDriverWait(driver, 90)
    # the file tree, and New's menu once the kernels are listed
    wait.until(ec.element_to_be_clickable((By.ID, "new-dropdown-button"))).click()
    item = wait.until(ec.element_to_be_clickable((By.XPATH, f'//ul[@id="new-menu"]//a[normalize-space(text())="{kernel}"]')))
    tree = driver.current_window_handle
    item.click()
    # the notebook opens in a new tab
    wait.until(lambda d: len(d.window_handles) > 1)
    driver.switch_to.window([h for h in driver.window_handles if h != tree][0])
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#kernel_indicator_icon.kernel_idle_icon")))
    cell = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".cell .CodeMirror")))
    cell.click()
    ActionChains(driver).send_keys(code).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
    out = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".cell .output_area .output_subarea")))
    wait.until(lambda d: out.text.strip() != "")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#kernel_indicator_icon.kernel_idle_icon")))
    result = {
        "kernel": driver.find_element(By.CSS_SELECTOR, ".kernel_indicator_name").text,
        "input": driver.find_element(By.CSS_SELECTOR, ".cell .input_area").text,
        "output": out.text,
        "title": driver.title,
        "url": driver.current_url.split("?")[0],
    }
finally:
    driver.save_screenshot(shot)
    driver.quit()
print(json.dumps(result))
