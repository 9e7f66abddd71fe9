"""The tables the stations demo (stations/demo.py) draws from: the operators and their code styles,
Hanoi's streets, villages and roads, the public sites the city offers, the permit applications
with their steps and messages, and the mix of structures, heights, statuses and land categories.

Plain data only; stations.demo turns it into records with a fixed seed.
"""

HANOI_BBOX = (105.29, 20.57, 106.02, 21.38)  # fallback when no boundary is loaded

# Operator, share of the stations, how it writes a station code.
OPERATORS = [
    ("VIETTEL", 0.36, "HNI-{abbr}-{n:04d}"),
    ("VNPT", 0.26, "HN_{abbr}_{n:03d}"),
    ("MOBIFONE", 0.22, "MF-HN-{abbr}-{n:03d}"),
    ("VIETNAMOBILE", 0.08, "VNM-HN{abbr}{n:03d}"),
    ("GTEL", 0.03, "GTEL-HN-{abbr}{n:02d}"),
    ("FPT", 0.03, "FPT-HN-{abbr}-{n:02d}"),
    ("CMC", 0.02, "CMC-HN-{abbr}-{n:02d}"),
]
CODE_STYLE = {code: style for code, _share, style in OPERATORS}

# Streets of central wards (2025 units); other wards draw from the city's main roads.
WARD_STREETS = {
    "00004": ["Điện Biên Phủ", "Hoàng Diệu", "Phan Đình Phùng", "Quán Thánh", "Nguyễn Thái Học"],
    "00008": ["Đội Cấn", "Ngọc Hà", "Hoàng Hoa Thám", "Liễu Giai", "Văn Cao"],
    "00025": ["Giảng Võ", "Kim Mã", "Ngọc Khánh", "Nguyễn Chí Thanh", "Núi Trúc"],
    "00070": ["Hàng Bài", "Tràng Tiền", "Hàng Đào", "Đinh Tiên Hoàng", "Lý Thái Tổ"],
    "00082": ["Quán Sứ", "Trần Hưng Đạo", "Hai Bà Trưng", "Lý Thường Kiệt", "Phan Bội Châu"],
    "00103": ["Lạc Long Quân", "Âu Cơ", "Xuân Diệu", "Tô Ngọc Vân", "Quảng An"],
    "00118": ["Nguyễn Văn Cừ", "Ngọc Lâm", "Nguyễn Sơn", "Hồng Tiến"],
    "00145": ["Nguyễn Văn Linh", "Thạch Bàn", "Cổ Linh", "Vũ Xuân Thiều"],
    "00160": ["Hoàng Quốc Việt", "Nghĩa Đô", "Nguyễn Văn Huyên", "Hoàng Sâm"],
    "00166": ["Cầu Giấy", "Xuân Thủy", "Trần Thái Tông", "Duy Tân", "Trần Quốc Hoàn"],
    "00175": ["Trần Duy Hưng", "Nguyễn Chánh", "Trung Kính", "Mạc Thái Tổ", "Nguyễn Khang"],
    "00190": ["Xã Đàn", "Hào Nam", "Đê La Thành", "Hoàng Cầu"],
    "00199": ["Láng", "Chùa Láng", "Pháo Đài Láng", "Nguyễn Chí Thanh"],
    "00226": ["Tôn Đức Thắng", "Quốc Tử Giám", "Văn Miếu", "Hàng Bột"],
    "00229": ["Phạm Ngọc Thạch", "Đào Duy Anh", "Lương Định Của", "Phương Mai"],
    "00235": ["Tây Sơn", "Thái Hà", "Chùa Bộc", "Thái Thịnh", "Yên Lãng"],
    "00256": ["Phố Huế", "Bà Triệu", "Lê Đại Hành", "Nguyễn Du", "Trần Xuân Soạn"],
    "00283": ["Minh Khai", "Vĩnh Tuy", "Kim Ngưu", "Lạc Trung"],
    "00292": ["Bạch Mai", "Đại La", "Trần Đại Nghĩa", "Lê Thanh Nghị"],
    "00352": ["Trường Chinh", "Giải Phóng", "Phương Liệt", "Lê Trọng Tấn"],
    "00364": ["Khương Đình", "Kim Giang", "Nguyễn Xiển"],
    "00367": ["Nguyễn Trãi", "Khuất Duy Tiến", "Nguyễn Tuân", "Lê Văn Lương", "Vũ Trọng Phụng"],
    "00592": ["Hồ Tùng Mậu", "Lê Đức Thọ", "Trần Hữu Dực", "Hàm Nghi"],
    "00611": ["Phạm Văn Đồng", "Xuân Đỉnh", "Tân Xuân", "Xuân La"],
    "00619": ["Phúc Diễn", "Cầu Diễn", "Đức Diễn"],
    "09556": ["Quang Trung", "Trần Phú", "Tô Hiệu", "Lê Trọng Tấn"],
    "09574": ["Lê Lợi", "Phó Đức Chính", "Chùa Thông", "Quang Trung"],
}
CITY_STREETS = [
    "Nguyễn Văn Cừ", "Phạm Văn Đồng", "Giải Phóng", "Nguyễn Trãi", "Lê Văn Lương", "Tố Hữu",
    "Nguyễn Xiển", "Tam Trinh", "Lĩnh Nam", "Nguyễn Văn Linh", "Đại lộ Thăng Long", "Lê Quang Đạo",
    "Vành đai 3", "Ngọc Hồi", "Phúc Diễn", "Kim Giang", "Tây Tựu", "Thượng Cát", "Yên Nghĩa",
]  # fmt: skip
VILLAGES = ["Đông", "Đoài", "Thượng", "Trung", "Hạ", "Nam", "Bắc", "Tiền", "Hậu", "Chợ", "Mới"]
ROADS = ["Quốc lộ 32", "Quốc lộ 6", "Quốc lộ 21", "Quốc lộ 3", "Quốc lộ 1A", "Tỉnh lộ 419"]

# --- Public sites: (kind, name, commune code, building height, capacity, status) ------------------
OFFICE, SCHOOL, PARK, CULTURE, LAND = "office", "school", "park", "culture", "land"
SITES = [
    (OFFICE, "Trụ sở UBND phường Cầu Giấy", "00166", 21, 2, "available"),
    (PARK, "Công viên Cầu Giấy", "00166", None, 2, "available"),
    (OFFICE, "Trụ sở UBND phường Ba Đình", "00004", 18, 1, "available"),
    (OFFICE, "Trụ sở UBND phường Ngọc Hà", "00008", 15, 1, "available"),
    (OFFICE, "Trụ sở UBND phường Giảng Võ", "00025", 17, 1, "reserved"),
    (OFFICE, "Trụ sở UBND phường Hoàn Kiếm", "00070", 16, 1, "available"),
    (OFFICE, "Trụ sở UBND phường Tây Hồ", "00103", 15, 1, "available"),
    (OFFICE, "Trụ sở UBND phường Long Biên", "00145", 20, 2, "available"),
    (OFFICE, "Trụ sở UBND phường Nghĩa Đô", "00160", 18, 1, "available"),
    (OFFICE, "Trụ sở UBND phường Yên Hoà", "00175", 24, 2, "available"),
    (OFFICE, "Trụ sở UBND phường Láng", "00199", 15, 1, "reserved"),
    (OFFICE, "Trụ sở UBND phường Đống Đa", "00235", 18, 1, "available"),
    (OFFICE, "Trụ sở UBND phường Hai Bà Trưng", "00256", 16, 1, "available"),
    (OFFICE, "Trụ sở UBND phường Bạch Mai", "00292", 15, 1, "available"),
    (OFFICE, "Trụ sở UBND phường Hoàng Mai", "00331", 18, 1, "available"),
    (OFFICE, "Trụ sở UBND phường Thanh Xuân", "00367", 21, 2, "available"),
    (OFFICE, "Trụ sở UBND phường Từ Liêm", "00592", 24, 2, "available"),
    (OFFICE, "Trụ sở UBND phường Xuân Đỉnh", "00611", 15, 1, "occupied"),
    (OFFICE, "Trụ sở UBND phường Hà Đông", "09556", 21, 2, "available"),
    (OFFICE, "Trụ sở UBND phường Sơn Tây", "09574", 12, 1, "available"),
    (OFFICE, "Trụ sở UBND phường Chương Mỹ", "10015", 12, 1, "available"),
    (OFFICE, "Trụ sở UBND phường Bồ Đề", "00118", 18, 1, "available"),
    (SCHOOL, "Trường THCS Cầu Giấy", "00166", 16, 1, "available"),
    (SCHOOL, "Trường Tiểu học Nghĩa Tân", "00160", 12, 1, "available"),
    (SCHOOL, "Trường THCS Giảng Võ", "00025", 14, 1, "occupied"),
    (SCHOOL, "Trường THPT Yên Hoà", "00175", 16, 1, "available"),
    (SCHOOL, "Trường Tiểu học Kim Liên", "00229", 12, 1, "available"),
    (SCHOOL, "Trường THCS Thanh Xuân", "00367", 14, 1, "reserved"),
    (SCHOOL, "Trường THCS Long Biên", "00145", 12, 1, "available"),
    (SCHOOL, "Trường THPT Lê Quý Đôn - Hà Đông", "09556", 16, 1, "available"),
    (SCHOOL, "Trường Tiểu học Đông Anh", "00454", 10, 1, "available"),
    (SCHOOL, "Trường THCS Gia Lâm", "00565", 10, 1, "available"),
    (SCHOOL, "Trường THCS Sóc Sơn", "00376", 10, 1, "available"),
    (SCHOOL, "Trường Tiểu học Phú Xuyên", "10273", 9, 1, "available"),
    (PARK, "Công viên Thống Nhất", "00256", None, 3, "available"),
    (PARK, "Công viên Nghĩa Đô", "00160", None, 2, "available"),
    (PARK, "Công viên Hoà Bình", "00611", None, 3, "available"),
    (PARK, "Công viên Yên Sở", "00340", None, 3, "available"),
    (PARK, "Vườn hoa Lý Thái Tổ", "00070", None, 1, "reserved"),
    (PARK, "Công viên Thiên Văn Học", "09886", None, 2, "available"),
    (PARK, "Công viên Tuổi Trẻ Thủ Đô", "00292", None, 2, "available"),
    (PARK, "Công viên Long Biên", "00145", None, 2, "available"),
    (PARK, "Công viên Thủ Lệ", "00008", None, 1, "occupied"),
    (PARK, "Công viên Cầu Giấy - khu vui chơi phía Đông", "00175", None, 1, "available"),
    (CULTURE, "Nhà văn hoá tổ dân phố số 12, phường Thanh Xuân", "00367", 8, 1, "available"),
    (CULTURE, "Nhà văn hoá tổ dân phố số 5, phường Phú Diễn", "00619", 8, 1, "available"),
    (CULTURE, "Nhà văn hoá thôn Đông, xã Sóc Sơn", "00376", 7, 1, "available"),
    (CULTURE, "Nhà văn hoá thôn Trung, xã Đông Anh", "00454", 7, 1, "reserved"),
    (CULTURE, "Nhà văn hoá thôn Hạ, xã Bát Tràng", "00577", 6, 1, "available"),
    (CULTURE, "Nhà văn hoá thôn Thượng, xã Ba Vì", "09700", 6, 1, "available"),
    (CULTURE, "Nhà văn hoá thôn Bắc, xã Phúc Thọ", "09715", 7, 1, "available"),
    (CULTURE, "Nhà văn hoá thôn Nam, xã Thường Tín", "10183", 7, 1, "occupied"),
    (OFFICE, "Trụ sở UBND xã Đông Anh", "00454", 15, 1, "available"),
    (OFFICE, "Trụ sở UBND xã Gia Lâm", "00565", 12, 1, "available"),
    (OFFICE, "Trụ sở UBND xã Sóc Sơn", "00376", 12, 1, "available"),
    (OFFICE, "Trụ sở UBND xã Thanh Trì", "00640", 12, 1, "available"),
    (OFFICE, "Trụ sở UBND xã Hoài Đức", "09832", 12, 1, "available"),
    (OFFICE, "Trụ sở UBND xã Mê Linh", "09022", 12, 1, "available"),
    (LAND, "Khu đất công cộng ven đê, xã Bát Tràng", "00577", None, 1, "available"),
    (LAND, "Đất công cộng cạnh trạm bơm Yên Sở", "00340", None, 2, "available"),
    (LAND, "Dải đất cây xanh Đại lộ Thăng Long, phường Tây Mỗ", "00634", None, 2, "available"),
    (LAND, "Đất công cộng khu tái định cư Dương Nội", "09886", None, 1, "available"),
]
SITE_KIND = {
    OFFICE: ("public_building", "Lắp cột trên mái, cao không quá 20% chiều cao công trình; "
             "lắp đặt ngoài giờ làm việc; thuê theo hợp đồng 5 năm với UBND."),
    SCHOOL: ("public_building", "Chỉ lắp cột ngụy trang hoặc cột trên mái không cồng kềnh; "
             "thi công trong dịp nghỉ hè; đo kiểm bức xạ hằng năm."),
    PARK: ("public_place", "Cột ngụy trang dạng cây xanh, cao không quá 15 m; không chặt hạ "
           "cây; hoàn trả mặt bằng sau thi công."),
    CULTURE: ("public_building", "Lắp trên mái nhà văn hoá; dùng chung cho tối đa hai doanh "
              "nghiệp; thông báo trước cho tổ dân phố, thôn."),
    LAND: ("public_land", "Cột tự đứng hoặc cột đơn thân; có phương án dùng chung hạ tầng; "
           "không lấn hành lang đê điều, giao thông."),
}  # fmt: skip

DOCUMENT_FILES = {
    "application_form": "don-de-nghi.pdf",
    "drawings": "ban-ve-thiet-ke.pdf",
    "land_use": "thoa-thuan-su-dung-dat.pdf",
    "structural": "bao-cao-an-toan-ket-cau.pdf",
    "emf": "cam-ket-an-toan-buc-xa.pdf",
}

# --- Permit applications ------------------------------------------------------------------------
# (username, application type, public site name or commune code, station code number, name,
#  structure (type, height m), technologies, started N working days ago,
#  steps [(action, working days after the start)]); documents are uploaded before submitting, and a
#  draft gets a part of its checklist.
RETURN_NOTE = (
    "Thiếu báo cáo an toàn kết cấu công trình; bản vẽ chưa thể hiện chiều cao cột so với mái."
)
REJECT_NOTE = (
    "Trong bán kính 200 m đã có cột của doanh nghiệp khác đủ khả năng dùng chung; "
    "đề nghị thuê lại hạ tầng hiện có."
)
APPLICATIONS = [
    # Drafts
    ("lan", "public_station", "Trụ sở UBND phường Long Biên", 901, "Long Biên UBND",
     ("rooftop_mast", 6), ["4G", "5G"], 0, []),
    ("tuan", "non_bulky", "Trường Tiểu học Kim Liên", 901, "Kim Liên trường học",
     ("camouflaged_mast", 9), ["4G", "5G"], 0, []),
    ("huy", "public_station", "00454", 901, "Đông Anh mới", ("monopole", 30), ["4G"], 0, []),
    ("lan", "modification", "station", 902, "", ("rooftop_mast", 6), ["4G", "5G"], 0, []),
    # Submitted (two of them long ago: overdue)
    ("lan", "public_station", "Trụ sở UBND phường Đống Đa", 903, "Đống Đa UBND",
     ("rooftop_mast", 6), ["4G", "5G"], 2, [("submit", 0)]),
    ("tuan", "public_station", "Công viên Hoà Bình", 902, "Công viên Hoà Bình",
     ("camouflaged_mast", 15), ["4G", "5G"], 14, [("submit", 0)]),
    ("huy", "non_bulky", "Trụ sở UBND phường Bạch Mai", 902, "Bạch Mai UBND",
     ("rooftop_mast", 3), ["4G", "5G"], 1, [("submit", 0)]),
    ("huy", "public_station", "00565", 903, "Gia Lâm chợ", ("lattice_tower", 42),
     ["2G", "3G", "4G"], 16, [("submit", 0)]),
    # Returned for supplement
    ("lan", "public_station", "Trường THCS Long Biên", 904, "Long Biên THCS",
     ("rooftop_mast", 5), ["4G"], 6, [("submit", 0), ("return", 2)]),
    ("tuan", "public_station", "Đất công cộng cạnh trạm bơm Yên Sở", 903, "Yên Sở trạm bơm",
     ("monopole", 30), ["4G", "5G"], 9, [("submit", 0), ("return", 3)]),
    ("huy", "modification", "station", 904, "", ("lattice_tower", 45), ["3G", "4G", "5G"],
     4, [("submit", 0), ("return", 1)]),
    # Resubmitted (one of them overdue)
    ("lan", "public_station", "Nhà văn hoá tổ dân phố số 5, phường Phú Diễn", 905,
     "Phú Diễn nhà văn hoá", ("rooftop_mast", 4), ["4G", "5G"], 8,
     [("submit", 0), ("return", 2), ("resubmit", 6)]),
    ("tuan", "public_station", "00376", 904, "Sóc Sơn quốc lộ 3", ("lattice_tower", 45),
     ["2G", "3G", "4G"], 30, [("submit", 0), ("return", 3), ("resubmit", 7)]),
    ("huy", "public_station", "Trụ sở UBND phường Hà Đông", 905, "Hà Đông UBND",
     ("rooftop_mast", 6), ["4G", "5G"], 5, [("submit", 0), ("return", 1), ("resubmit", 4)]),
    # Under review (two overdue)
    ("lan", "public_station", "Công viên Yên Sở", 906, "Công viên Yên Sở",
     ("camouflaged_mast", 15), ["4G", "5G"], 5, [("submit", 0), ("accept", 2)]),
    ("lan", "public_station", "Trụ sở UBND phường Từ Liêm", 907, "Từ Liêm UBND",
     ("rooftop_mast", 6), ["4G", "5G"], 15, [("submit", 0), ("accept", 2)]),
    ("tuan", "modification", "station", 905, "", ("monopole", 36), ["4G", "5G"], 4,
     [("submit", 0), ("accept", 1)]),
    ("huy", "public_station", "Công viên Thiên Văn Học", 906, "Thiên Văn Học",
     ("camouflaged_mast", 12), ["4G", "5G"], 20,
     [("submit", 0), ("return", 2), ("resubmit", 5), ("accept", 6)]),
    ("tuan", "public_station", "Trường THPT Lê Quý Đôn - Hà Đông", 906, "Lê Quý Đôn Hà Đông",
     ("rooftop_mast", 5), ["4G", "5G"], 3, [("submit", 0), ("accept", 2)]),
    # Approved (the site is then occupied)
    ("lan", "public_station", "Trụ sở UBND phường Nghĩa Đô", 908, "Nghĩa Đô UBND",
     ("rooftop_mast", 6), ["4G", "5G"], 25, [("submit", 0), ("accept", 2), ("approve", 8)]),
    ("tuan", "public_station", "Trường THCS Gia Lâm", 907, "Gia Lâm THCS",
     ("rooftop_mast", 5), ["3G", "4G"], 30,
     [("submit", 0), ("return", 2), ("resubmit", 5), ("accept", 6), ("approve", 12)]),
    ("huy", "modification", "station", 907, "", ("monopole", 30), ["4G", "5G"], 18,
     [("submit", 0), ("accept", 2), ("approve", 6)]),
    ("lan", "public_station", "Khu đất công cộng ven đê, xã Bát Tràng", 909, "Bát Tràng ven đê",
     ("monopole", 30), ["4G"], 40, [("submit", 0), ("accept", 3), ("approve", 9)]),
    # Rejected
    ("huy", "public_station", "Vườn hoa Lý Thái Tổ", 908, "Hồ Gươm Lý Thái Tổ",
     ("camouflaged_mast", 12), ["4G", "5G"], 22, [("submit", 0), ("accept", 2), ("reject", 7)]),
    ("tuan", "public_station", "00070", 908, "Hoàn Kiếm Tràng Tiền", ("monopole", 24),
     ["4G", "5G"], 35, [("submit", 0), ("accept", 2), ("reject", 9)]),
    ("lan", "public_station", "Trường THCS Thanh Xuân", 910, "Thanh Xuân THCS",
     ("lattice_tower", 30), ["4G"], 28, [("submit", 0), ("accept", 3), ("reject", 8)]),
    # Deemed approved (tacit approval: no decision within 5 working days)
    ("lan", "non_bulky", "Nhà văn hoá thôn Thượng, xã Ba Vì", 911, "Ba Vì thôn Thượng",
     ("rooftop_mast", 1.2), ["4G"], 12, [("submit", 0)]),
    ("tuan", "non_bulky", "Công viên Long Biên", 909, "Công viên Long Biên",
     ("camouflaged_mast", 10), ["4G", "5G"], 9, [("submit", 0), ("accept", 2)]),
    # Withdrawn
    ("huy", "public_station", "Trụ sở UBND xã Thanh Trì", 909, "Thanh Trì UBND",
     ("rooftop_mast", 2.4), ["4G"], 10, [("submit", 0), ("withdraw", 3)]),
    ("lan", "public_station", "00145", 912, "Long Biên Cổ Linh", ("monopole", 27), ["4G"],
     3, [("withdraw", 1)]),
]  # fmt: skip
MESSAGES = {
    # station code number of a Viettel/VNPT/MobiFone application -> (official's question, answer)
    907: (
        "Đề nghị bổ sung ảnh hiện trạng mái và xác nhận của UBND về vị trí đặt tủ thiết bị.",
        "Đã bổ sung ảnh hiện trạng; tủ thiết bị đặt trong phòng kỹ thuật tầng mái.",
    ),
    906: (
        "Cột ngụy trang có thể hạ xuống 12 m không?",
        "Có thể, vùng phủ giảm khoảng 10% nhưng vẫn đạt yêu cầu.",
    ),
}


# --- Stations: structures, heights, statuses and land categories ----------------------------
# (LAND here is the land-category table the stations draw from; the site kind above is used
#  only while SITES and SITE_KIND are built.)
URBAN_STRUCTURES = [
    ("rooftop_mast", 0.50),
    ("camouflaged_mast", 0.58),
    ("monopole", 0.75),
    ("lattice_tower", 0.85),
    ("pole", 0.95),
    ("guyed_mast", 1.0),
]
RURAL_STRUCTURES = [
    ("rooftop_mast", 0.15),
    ("camouflaged_mast", 0.17),
    ("monopole", 0.35),
    ("lattice_tower", 0.75),
    ("pole", 0.85),
    ("guyed_mast", 1.0),
]
HEIGHTS = {
    "lattice_tower": (30, 60),
    "guyed_mast": (25, 45),
    "monopole": (18, 36),
    "camouflaged_mast": (6, 15),
    "pole": (8, 15),
}
STATUSES = [
    ("operating", 0.88),
    ("permitted", 0.92),
    ("planned", 0.96),
    ("suspended", 0.98),
    ("decommissioned", 1.0),
]
LAND = [
    ("private", 0.70),
    ("public_building", 0.80),
    ("public_land", 0.88),
    ("public_place", 0.94),
    ("public_works", 1.0),
]
