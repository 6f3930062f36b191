"""Made-up residents for simulated devices: names, addresses and valid GB 11643 ID numbers, as an
ID card reader reads them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

from stdnum.cn import ric

_SURNAMES: Final = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
_GIVEN: Final = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红文斌宇浩然欣怡子涵梓轩"
_STREETS: Final = ("人民路", "建设路", "解放路", "中山路", "和平街", "幸福里", "光明街", "朝阳路")
# County codes with the names stdnum's table gives them. Some exist only since the 1980s; stdnum
# (and so the server) checks the code against the birth year, so a resident born earlier is
# placed in one of those that existed then. Dongcheng has existed throughout.
_REGIONS: Final = (
    ("110101", "北京市东城区"),
    ("110105", "北京市朝阳区"),
    ("110108", "北京市海淀区"),
    ("120101", "天津市和平区"),
    ("310104", "上海市徐汇区"),
    ("310110", "上海市杨浦区"),
    ("320102", "江苏省南京市玄武区"),
    ("330106", "浙江省杭州市西湖区"),
    ("440106", "广东省广州市天河区"),
    ("440305", "广东省深圳市南山区"),
    ("510107", "四川省成都市武侯区"),
    ("420106", "湖北省武汉市武昌区"),
)


@dataclass(frozen=True)
class Resident:
    """A made-up resident with a valid GB 11643 ID number, as a card reader reads them."""

    name: str
    id_number: str
    sex: Literal["男", "女"]
    birth: date
    address: str
    nation: str = "汉"

    def card(self) -> dict[str, str]:
        """The fields of an ID reader's ``card`` event."""
        return {
            "name": self.name,
            "id_number": self.id_number,
            "sex": self.sex,
            "nation": self.nation,
            "birth": self.birth.strftime("%Y%m%d"),
            "address": self.address,
        }

    def press_card(self) -> dict[str, str]:
        """What a kiosk's built-in reader adds to a press: no more than the ticket needs."""
        return {"name": self.name, "id_number": self.id_number}


def make_resident(rng: random.Random, *, today: date | None = None) -> Resident:
    today = today or date.today()
    # An adult: ID cards are read for residents of 18 to 85.
    birth = today - timedelta(days=int(rng.uniform(18, 86) * 365.2425))
    male = rng.random() < 0.5
    # The 17th digit is odd for men and even for women.
    sequence = f"{rng.randrange(500) * 2 + (1 if male else 0):03d}"
    places = []
    for code, place in _REGIONS:
        body = code + birth.strftime("%Y%m%d") + sequence
        number = body + ric.calc_check_digit(body + "0")  # the digit is computed over the first 17
        if ric.is_valid(number):
            places.append((number, place))
    number, place = rng.choice(places)
    name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))
    address = f"{place}{rng.choice(_STREETS)}{rng.randint(1, 300)}号"
    return Resident(name, number, "男" if male else "女", birth, address)
