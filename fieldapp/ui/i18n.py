"""The TUI's own words in Chinese (default) and English.

Field labels and choice labels are NOT here: they come from `FieldSpec.label()` and
`ChoiceSet.label()` so a field is named the same way in the form, the list and an export.
"""

from __future__ import annotations

LANGS = ("zh", "en")

_T: dict[str, tuple[str, str]] = {
    "app_title": ("社区嵌入式服务设施 现场采集", "Community service facilities: field tool"),
    # navigation and actions
    "home": ("首页", "Home"),
    "sites": ("存量资源", "Sites"),
    "facilities": ("服务设施", "Facilities"),
    "inspections": ("巡查", "Inspections"),
    "new_site": ("新建存量资源", "New site"),
    "new_facility": ("新建设施", "New facility"),
    "new": ("新建", "New"),
    "search": ("搜索", "Search"),
    "help": ("帮助", "Help"),
    "back": ("返回", "Back"),
    "quit": ("退出", "Quit"),
    "open": ("打开", "Open"),
    "edit": ("编辑", "Edit"),
    "save_draft": ("存草稿", "Save draft"),
    "submit": ("提交", "Submit"),
    "record_inspection": ("记录巡查", "Record inspection"),
    "switch_lang": ("切换语言 English", "Switch language 中文"),
    "lang_short": ("EN", "中文"),
    "coverage": ("覆盖分析", "Coverage"),
    "sync_screen": ("同步与冲突", "Sync and conflicts"),
    "next_page": ("下一页", "Next page"),
    "prev_page": ("上一页", "Previous page"),
    "sort_dir": ("升/降序", "Sort order"),
    "filters": ("筛选", "Filters"),
    "palette": ("命令", "Commands"),
    "clear_filters": ("清除筛选", "Clear filters"),
    # home
    "my_grids": ("我的网格", "My grids"),
    "by_status": ("各状态数量", "Counts by status"),
    "total": ("合计", "Total"),
    "waiting_sync": ("待同步", "Waiting to sync"),
    "last_sync": ("上次同步", "Last sync"),
    "never_synced": ("从未同步", "never"),
    "needs_attention": ("被退回、需处理", "Returned: needs attention"),
    "nothing_returned": ("没有被退回的记录", "Nothing has been returned"),
    "no_grids": ("还没有记录", "No records yet"),
    "loading": ("加载中…", "Loading…"),
    "records_n": ("{n} 条", "{n} records"),
    # list
    "search_placeholder": ("搜索 地址/权属方/名称/备注", "Search address, owner, name"),
    "all_grids": ("全部网格", "All grids"),
    "all_status": ("全部状态", "Any status"),
    "all_source": ("全部类型", "Any type"),
    "all_functions": ("全部功能", "Any function"),
    "sort_by": ("排序", "Sort:"),
    "sort_updated_at": ("按更新时间", "Updated"),
    "sort_created_at": ("按创建时间", "Created"),
    "sort_title": ("按地址/名称", "Address/name"),
    "sort_grid_code": ("按网格", "Grid"),
    "sort_status": ("按状态", "Status"),
    "status": ("状态", "Status"),
    "updated": ("更新", "Updated"),
    "page": ("第 {page} 页", "page {page}"),
    "empty_list": ("没有符合条件的记录", "No records match"),
    # form
    "form_new": ("新建{kind}", "New {kind}"),
    "form_edit": ("编辑{kind}", "Edit {kind}"),
    "choose": ("请选择", "Choose"),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "saved_draft": ("已存为草稿", "Saved as draft"),
    "submitted": ("已提交", "Submitted"),
    "fix_errors": ("有 {n} 处需要修改,见红字", "{n} field(s) need fixing, see the red text"),
    "not_complete": ("还不能提交: {n} 处未填或有误", "Cannot submit yet: {n} field(s) missing or wrong"),
    "autosaved": ("已自动暂存", "Autosaved"),
    "kept_unsaved": ("未保存的输入已暂存,下次打开可恢复", "Unsaved input kept; you can restore it next time"),
    "restore_title": ("发现未保存的输入", "Unsaved input found"),
    "restore_body": ("{when} 暂存了这张表单的输入,要恢复吗?",
                     "Input for this form was kept at {when}. Restore it?"),
    "restore": ("恢复", "Restore"),
    "discard": ("丢弃", "Discard"),
    "cannot_save": ("无法保存", "Cannot save"),
    "readonly_field": ("(自动填写)", "(filled in for you)"),
    # duplicates
    "dup_title": ("可能重复", "Possible duplicate"),
    "dup_body": ("已有记录地址相同或位置很近:", "Existing records have the same address or are very close:"),
    "dup_same_address": ("地址相同", "same address"),
    "dup_distance": ("相距 {m} 米", "{m} m away"),
    "dup_open": ("打开那条记录", "Open the other record"),
    "dup_save": ("仍然保存", "Save anyway"),
    "cancel": ("取消", "Cancel"),
    # detail
    "detail": ("详情", "Details"),
    "history": ("状态与修改记录", "Status and change history"),
    "review_comment": ("审核意见", "Review comment"),
    "sync_state": ("同步状态", "Sync state"),
    "server_version": ("服务器版本", "Server version"),
    "not_uploaded": ("尚未上传", "not uploaded yet"),
    "pending_changes": ("{n} 项修改待上传", "{n} change(s) waiting to upload"),
    "all_synced": ("已全部上传", "everything uploaded"),
    "no_inspections": ("还没有巡查记录", "No inspections yet"),
    "inspection_of": ("巡查: {title}", "Inspection: {title}"),
    "not_found": ("找不到这条记录", "Record not found"),
    "author": ("录入人", "Recorded by"),
    "created": ("创建", "Created"),
    # attachments (fieldapp/ui/screens/attachments.py)
    "attachments": ("附件", "Attachments"),
    "att_add": ("添加", "Add"),
    "att_remove": ("删除", "Remove"),
    "att_none": ("还没有附件,按 n 添加照片或文档", "No attachments yet: press n to add a photo or document"),
    "att_name": ("文件", "File"),
    "att_kind": ("类别", "Kind"),
    "att_size": ("大小", "Size"),
    "att_caption": ("说明", "Caption"),
    "att_state": ("同步", "Sync"),
    "att_photo": ("照片", "photo"),
    "att_document": ("文档", "document"),
    "att_pick_title": ("选择照片或文档(JPEG/PNG/HEIC/WebP/PDF,最大 20 MB)",
                       "Choose a photo or document (JPEG/PNG/HEIC/WebP/PDF, up to 20 MB)"),
    "att_path": ("文件路径", "File path"),
    "att_added": ("已添加: {name}", "Added: {name}"),
    "att_removed": ("已删除: {name}", "Removed: {name}"),
    "att_at": ("文件位置: {path}", "File is at: {path}"),
    "att_fetching": ("正在从服务器下载…", "Fetching from the registry…"),
    # status bar
    "online": ("在线", "Online"),
    "offline": ("离线", "Offline"),
    "syncing": ("同步中", "Syncing"),
    "sync_error": ("同步出错", "Sync error"),
    "user": ("用户", "User"),
    "no_user": ("未登录", "not signed in"),
    "coverage_missing": ("覆盖分析模块尚未安装", "The coverage module is not available"),
    "lang_switched": ("已切换为中文", "Switched to English"),
    # help
    "help_title": ("快捷键", "Keys"),
    "help_global": ("全局", "Everywhere"),
    "help_list": ("列表", "Lists"),
    "help_form": ("表单", "Forms"),
    "help_detail": ("详情", "Details"),
    "help_move": ("移动光标 / 切换字段", "Move the cursor / next field"),
    "help_open_row": ("打开所选记录", "Open the selected record"),
    "help_palette": ("命令面板: 所有操作", "Command palette: every action"),
    "help_multi": ("空格: 勾选多选项", "Space: tick a multi-choice item"),
    "help_footer": ("Esc 关闭", "Esc closes"),
}


def t(key: str, lang: str = "zh", **values: object) -> str:
    zh, en = _T[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def keys() -> list[str]:
    return list(_T)
